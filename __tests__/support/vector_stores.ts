import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";

import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { FaissVectorStore } from "../../src/recall/faiss/faiss_vector_store.js";
import { randomUnitVectors } from "./random.js";

/** Embeddings that are never called: stores built from explicit vectors. */
export const NO_EMBEDDINGS: EmbeddingsInterface = {
  embedDocuments: async () => {
    throw new Error("not used");
  },
  embedQuery: async () => {
    throw new Error("not used");
  },
};

/** A store of `count` documents with random unit vectors of dimension `dim` (ids `doc-<n>`). */
export async function vectorStore(count: number, dim = 8, seed = 1, text = (i: number) => `document ${i}`) {
  const store = new FaissVectorStore(NO_EMBEDDINGS);
  const flat = randomUnitVectors(count, dim, seed);
  const docs = Array.from({ length: count }, (_, i) => new Document({ pageContent: text(i), metadata: { n: i } }));
  store.addFlatVectors(
    flat,
    dim,
    docs,
    docs.map((_, i) => `doc-${i}`),
  );
  return { store, flat };
}

/** The folder holding the current data of a saved index (named by its manifest). */
export function dataFolder(dir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8")) as { index: { data: string } };
  return path.join(dir, manifest.index.data);
}

/** Records the current checksums in the manifest, as a writer that wrote these (bad) bytes on purpose would. */
export function reseal(dir: string): void {
  const file = path.join(dir, "two-stage.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as {
    index: { data: string; checksums: Record<string, string> };
  };
  for (const name of Object.keys(manifest.index.checksums)) {
    const bytes = fs.readFileSync(path.join(dir, manifest.index.data, name));
    manifest.index.checksums[name] = createHash("sha256").update(bytes).digest("hex");
  }
  fs.writeFileSync(file, JSON.stringify(manifest));
}
