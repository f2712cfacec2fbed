import type { Document, DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import type { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { type BuiltStage1, type Stage1Kind, buildStage1 } from "../recall/build_stage1.js";
import { Progress } from "./progress.js";

/** Embeds documents in batches with a progress bar; one vector per document, in order. */
export async function embedVectors(
  embeddings: EmbeddingsInterface,
  docs: DocumentInterface[],
  quiet: boolean,
): Promise<number[][]> {
  const progress = new Progress("embedding", docs.length, quiet);
  const batch = 64;
  const vectors: number[][] = [];
  for (let start = 0; start < docs.length; start += batch) {
    const slice = docs.slice(start, start + batch);
    vectors.push(...(await embeddings.embedDocuments(slice.map((d) => d.pageContent))));
    progress.tick(slice.length);
  }
  return vectors;
}

/** The ids the CLI gives documents: their `metadata.docId` (a file path and chunk, or a dataset's document id). */
export function cliIds(docs: readonly DocumentInterface[]): string[] {
  return docs.map((d) => String(d.metadata.docId));
}

/**
 * Builds the stage 1 a command asked for over `docs` (ids from `metadata.docId`) with the library's `buildStage1`,
 * drawing a progress bar for embedding.
 */
export async function buildCliStage1(
  kind: Stage1Kind,
  docs: Document[],
  embeddings: TransformersEmbeddings,
  quiet = false,
  fusion: { denseWeight?: number } = {},
): Promise<BuiltStage1> {
  const progress = kind === "bm25" ? undefined : new Progress("embedding", docs.length, quiet);
  return buildStage1(
    kind,
    docs,
    { embeddings, denseWeight: fusion.denseWeight, onEmbedded: progress ? (count) => progress.tick(count) : undefined },
    cliIds(docs),
  );
}
