import { DEFAULT_DENSE_WEIGHT } from "../defaults.js";
import { randomUUID } from "node:crypto";

import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { InvalidArgumentError } from "../errors.js";
import { checkIndexDocuments } from "../validation.js";
import { Bm25Index, type Bm25IndexParams } from "./bm25/bm25_index.js";
import { FaissVectorStore, type FaissVectorStoreParams } from "./faiss/faiss_vector_store.js";
import { HybridSource, type HybridSourceParams } from "./hybrid_source.js";
import type { RecallSource } from "./recall_source.js";
import { VectorStoreSource } from "./vector_store_source.js";

/** The stage 1 a factory builds: dense (FAISS over embeddings), BM25 (no model), or both fused. */
export type Stage1Kind = "dense" | "bm25" | "hybrid";

export const STAGE1_KINDS: readonly Stage1Kind[] = ["dense", "bm25", "hybrid"];

/** Options for building a stage 1 from documents. */
export interface BuildStage1Params extends FaissVectorStoreParams {
  /** Embeddings for dense and hybrid (required for them). */
  embeddings?: EmbeddingsInterface;
  /** Options of the BM25 index (bm25, hybrid). */
  bm25?: Bm25IndexParams;
  /**
   * Fusion options (hybrid).
   * @default Reciprocal Rank Fusion, k = 60
   */
  fusion?: Omit<HybridSourceParams, "sources">;
  /**
   * Weight of the dense source in a hybrid's fusion; BM25's is 1. Measured on real models (see
   * {@link DEFAULT_DENSE_WEIGHT}). Lower it (e.g. 0.5) for a dense model weaker than BM25 on your data: with the
   * project's lexical test embeddings, equal weights cost 0.04–0.05 Recall@100 on Cranfield and CISI, 0.5 stays within
   * 0.008 of BM25 (README "Stage 1 without a model").
   * @default 1
   */
  denseWeight?: number;
  /**
   * Called as documents are embedded, with the count of each batch (64 documents); the CLI draws its progress bar
   * from it. Without it the documents are embedded in one call.
   * @default undefined
   */
  onEmbedded?: (count: number) => void;
}

/** What {@link buildStage1} built. */
export interface BuiltStage1 {
  source: RecallSource;
  /** The FAISS store, for dense and hybrid. */
  store?: FaissVectorStore;
  /** The BM25 index, for bm25 and hybrid. */
  bm25?: Bm25Index;
}

/** Checks a stage-1 kind named by a user. */
export function checkStage1Kind(kind: unknown, argument = "stage1"): Stage1Kind {
  if (!STAGE1_KINDS.includes(kind as Stage1Kind)) {
    throw new InvalidArgumentError(`Unknown stage 1 '${String(kind)}'. Expected one of: ${STAGE1_KINDS.join(", ")}.`, {
      argument,
    });
  }
  return kind as Stage1Kind;
}

/** The parts of a stage 1 this package builds and saves: a FAISS store, a BM25 index, or both (a hybrid). */
export interface Stage1Parts {
  store?: FaissVectorStore;
  bm25?: Bm25Index;
}

/** Wraps built parts in the source of a kind (hybrid: dense and BM25 fused, the dense source named "dense"). */
export function stage1Source(parts: Stage1Parts, params: BuildStage1Params = {}): RecallSource {
  const dense = parts.store ? new VectorStoreSource(parts.store, { name: "dense" }) : undefined;
  if (dense && parts.bm25) {
    return new HybridSource({
      ...params.fusion,
      sources: [
        { source: dense, name: "dense", weight: params.denseWeight ?? DEFAULT_DENSE_WEIGHT },
        { source: parts.bm25, name: "bm25" },
      ],
    });
  }
  const source = dense ?? parts.bm25;
  if (!source) throw new InvalidArgumentError("A stage 1 needs a FAISS store, a BM25 index, or both.");
  return source;
}

/**
 * Builds stage 1 of `kind` over `documents`. Every document gets one id (its `id`, else a random UUID) shared by the
 * dense and BM25 parts, so a hybrid fuses them by identity.
 */
export async function buildStage1(
  kind: Stage1Kind,
  documents: DocumentInterface[],
  params: BuildStage1Params = {},
  ids: string[] = documents.map((doc) => doc.id ?? randomUUID()),
): Promise<BuiltStage1> {
  checkStage1Kind(kind);
  const parts: Stage1Parts = {};
  if (kind !== "dense") parts.bm25 = new Bm25Index(params.bm25);
  if (kind !== "bm25") {
    if (!params.embeddings) {
      throw new InvalidArgumentError(`A ${kind} stage 1 needs embeddings.`, { argument: "embeddings" });
    }
    parts.store = new FaissVectorStore(params.embeddings, { filterOverFetch: params.filterOverFetch });
  }
  await addToStage1(parts, documents, ids, params.onEmbedded);
  return { ...parts, source: stage1Source(parts, params) };
}

/** The documents a progress-reporting build embeds per call. */
const EMBED_BATCH = 64;

/**
 * Adds documents to every part with the same ids: the BM25 index, and the FAISS store (embedded with the store's
 * embeddings; in batches of 64 reported to `onEmbedded` when given). `buildStage1` and the CLI's `index --append`
 * both add through here.
 */
export async function addToStage1(
  parts: Stage1Parts,
  documents: DocumentInterface[],
  ids: string[],
  onEmbedded?: (count: number) => void,
): Promise<void> {
  await parts.bm25?.addDocuments(documents, { ids });
  const store = parts.store;
  if (!store) return;
  if (!onEmbedded) {
    await store.addDocuments(documents, { ids });
    return;
  }
  checkIndexDocuments(documents);
  const vectors: number[][] = [];
  for (let start = 0; start < documents.length; start += EMBED_BATCH) {
    const batch = documents.slice(start, start + EMBED_BATCH);
    vectors.push(...(await store.embeddings.embedDocuments(batch.map((doc) => doc.pageContent))));
    onEmbedded(batch.length);
  }
  await store.addVectors(vectors, documents, { ids });
}
