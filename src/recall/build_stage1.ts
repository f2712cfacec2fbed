import { DEFAULT_DENSE_WEIGHT } from "../defaults.js";
import { randomUUID } from "node:crypto";

import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { InvalidArgumentError } from "../errors.js";
import { batchIds, checkDeleteIds, checkIndexDocuments } from "../validation.js";
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

/** A change to a built stage 1: documents to add or replace (by id) and ids to delete. */
export interface Stage1Update {
  /** Documents to add; one whose id is held replaces the held document (upsert). */
  documents?: DocumentInterface[];
  /** Their ids (else each document's `id`, else random UUIDs). */
  ids?: string[];
  /** Ids of documents to delete; each must be held. */
  deleteIds?: string[];
  /** Called as documents are embedded, with the count of each batch (64 documents). */
  onEmbedded?: (count: number) => void;
}

/** What {@link updateStage1} did. */
export interface Stage1UpdateResult {
  /** Documents added under a new id. */
  added: number;
  /** Documents that replaced a held one (same id). */
  replaced: number;
  /** Documents deleted. */
  deleted: number;
}

/**
 * Applies a change to a built stage 1, its FAISS store and BM25 index kept in step: everything is checked (documents,
 * ids, that each id to delete is held by every part) and the new documents embedded before any part changes, then
 * each part deletes and upserts the same ids. In memory; `saveStage1` makes it durable (crash-safely: the old or the
 * new folder, whole).
 */
export async function updateStage1(parts: Stage1Parts, update: Stage1Update): Promise<Stage1UpdateResult> {
  const documents = update.documents ?? [];
  checkIndexDocuments(documents);
  const ids = batchIds(documents, update.ids, () => false, "index");
  const held = (id: string) => (parts.store?.has(id) ?? true) && (parts.bm25?.has(id) ?? true);
  const deleteIds = checkDeleteIds({ ids: update.deleteIds ?? [] }, held, "index");
  const deleting = new Set(deleteIds);
  const replaced = ids.filter((id) => !deleting.has(id) && held(id)).length;
  const store = parts.store;
  let flat: Float32Array | undefined;
  let dim = 0;
  if (store && documents.length > 0) {
    const vectors: number[][] = [];
    for (let start = 0; start < documents.length; start += EMBED_BATCH) {
      const batch = documents.slice(start, start + EMBED_BATCH);
      vectors.push(...(await store.embeddings.embedDocuments(batch.map((doc) => doc.pageContent))));
      update.onEmbedded?.(batch.length);
    }
    dim = vectors[0].length;
    flat = new Float32Array(vectors.length * dim);
    vectors.forEach((vector, row) => {
      if (vector.length !== dim) {
        throw new InvalidArgumentError(
          `The embedding of document ${row} has dimension ${vector.length}, not ${dim}; the embedding model is inconsistent.`,
        );
      }
      let norm = 0;
      for (const x of vector) norm += x * x;
      if (!Number.isFinite(norm) || norm === 0) {
        // addFlatVectors would refuse it too, but only after the deletes: refuse it while nothing has changed.
        throw new InvalidArgumentError(
          `The embedding of document ${row} is all zeros or not finite; it cannot be indexed for cosine search. Check its text.`,
        );
      }
      flat!.set(vector, row * dim);
    });
    if (store.dim !== undefined && dim !== store.dim) {
      throw new InvalidArgumentError(
        `The embeddings have dimension ${dim}, but the index holds dimension ${store.dim}. Update with the model the index was built with.`,
      );
    }
  }
  if (deleteIds.length > 0) {
    await store?.delete({ ids: deleteIds });
    await parts.bm25?.delete({ ids: deleteIds });
  }
  if (documents.length > 0) {
    if (store && flat) store.addFlatVectors(flat, dim, documents, ids, { upsert: true });
    await parts.bm25?.addDocuments(documents, { ids, upsert: true });
  }
  return { added: documents.length - replaced, replaced, deleted: deleteIds.length };
}
