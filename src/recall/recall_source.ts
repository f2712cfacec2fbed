import type { DocumentInterface } from "@langchain/core/documents";

/**
 * A metadata filter in this package's forms: a predicate over documents, or metadata fields that must equal the
 * given values. Every stage-1 source applies it (natively, translated, or over a widening window) or refuses it;
 * none ignores it.
 */
export type RecallFilter = ((doc: DocumentInterface) => boolean) | Record<string, unknown>;

/** One stage-1 candidate. */
export interface RecallCandidate {
  /** The document as the source stores it (sources return new objects; callers may not mutate them). */
  document: DocumentInterface;
  /** Higher is better. What it measures is the source's {@link RecallSource.scoreKind}. */
  score: number;
  /** Extra per-candidate facts for the result metadata, e.g. a fused source's `denseRank` and `bm25Rank`. */
  details?: Record<string, number | string | undefined>;
}

/**
 * Stage 1 of two-stage retrieval as one small interface: a FAISS index, a LangChain vector store or retriever, a BM25
 * index, a fusion of several. {@link TwoStageRetriever} asks it for `recallK` candidates and reranks them.
 */
export interface RecallSource {
  /** Short name for messages, manifests and `explain`: "faiss", "bm25", "hybrid", "pgvector", … */
  readonly name: string;
  /** What `score` measures: "cosine", "bm25", "rrf", "reciprocal-rank", … */
  readonly scoreKind: string;
  /**
   * The `k` best candidates for `query`, best first (fewer when fewer documents exist or pass the filter).
   * `k` is a positive integer (validated by the caller and again by the source before any native call).
   */
  recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]>;
  /** Adds documents (sources that hold their own index). */
  addDocuments?(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[] | void>;
  /**
   * The documents `ids` name by the identity rule (`text:<start>` for one without an id), in the order of `ids`,
   * undefined where none matches (sources that can look documents up: FAISS, BM25, hybrids of them).
   */
  getDocuments?(ids: readonly string[]): Promise<(DocumentInterface | undefined)[]>;
  /** Saves the source into an index folder (sources that persist to files). */
  save?(directory: string): Promise<void>;
  /** Releases what the source created (never what was injected into it). */
  dispose?(): Promise<void>;
}

/** True when `value` implements {@link RecallSource} (has `recall`, `name` and `scoreKind`). */
export function isRecallSource(value: unknown): value is RecallSource {
  const candidate = value as Partial<RecallSource> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.recall === "function" &&
    typeof candidate.name === "string" &&
    typeof candidate.scoreKind === "string"
  );
}
