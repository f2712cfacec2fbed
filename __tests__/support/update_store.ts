// A hybrid stage 1 (FAISS + BM25) in numbered versions, for the update tests: version v holds the documents
// d<v> … d<v+39>, each text starting with `v<v> `; updating v → v + 1 deletes d<v>, replaces (upserts) the 39 others
// with new texts and adds d<v+40>. Embeddings are a hash of the text: deterministic, no model.
import { createHash } from "node:crypto";

import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { type Stage1Parts, buildStage1, updateStage1 } from "../../src/recall/build_stage1.js";
import { docstoreTuning } from "../../src/recall/faiss/docstore_file.js";

export const UPDATE_DIM = 16;
const FILLER = "tide moon ocean ".repeat(512); // ~8 KB per document: the save takes many write steps

/** Deterministic embeddings: a unit vector from the SHA-256 of the text. */
export const HASH_EMBEDDINGS: EmbeddingsInterface = {
  async embedDocuments(texts: string[]) {
    return texts.map(hashVector);
  },
  async embedQuery(text: string) {
    return hashVector(text);
  },
};

function hashVector(text: string): number[] {
  const bytes = createHash("sha256").update(text).digest();
  const vector = Array.from({ length: UPDATE_DIM }, (_, i) => bytes[i] / 255 - 0.5 + (i === 0 ? 1 : 0));
  const norm = Math.hypot(...vector);
  return vector.map((x) => x / norm);
}

/** The ids of version `version`. */
export function versionIds(version: number): string[] {
  return Array.from({ length: 40 }, (_, i) => `d${version + i}`);
}

/** The documents of version `version`. */
export function versionDocuments(version: number): Document[] {
  return versionIds(version).map(
    (id) => new Document({ pageContent: `v${version} ${id} ${FILLER}`, id, metadata: { version, id } }),
  );
}

/** Builds version `version` as a hybrid stage 1. */
export async function buildVersion(version: number): Promise<Stage1Parts> {
  docstoreTuning.writeChunkBytes = 16 * 1024;
  const docs = versionDocuments(version);
  const built = await buildStage1("hybrid", docs, { embeddings: HASH_EMBEDDINGS }, versionIds(version));
  return { store: built.store, bm25: built.bm25 };
}

/** Updates parts holding `version` to `version + 1` in memory: one delete, 39 upserts, one add. */
export async function updateToNext(parts: Stage1Parts, version: number) {
  docstoreTuning.writeChunkBytes = 16 * 1024;
  const next = versionDocuments(version + 1);
  return updateStage1(parts, {
    documents: next,
    ids: versionIds(version + 1),
    deleteIds: [`d${version}`],
  });
}
