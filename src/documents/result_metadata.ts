/**
 * The metadata this package adds to the documents it returns. Result metadata is typed as these fields plus the
 * document's own fields as `unknown`, so `const s: string = doc.metadata.relevanceScore` is a compile error and a
 * user field must be narrowed before use.
 */

/** Added by stage 2 (`CrossEncoderCompressor`, `TwoStageRetriever`). */
export interface RerankMetadata {
  /** Stage-2 score after activation: a probability in [0, 1] unless `activation: "none"`. */
  relevanceScore: number;
  /** 1-based rank after reranking. */
  rerankRank: number;
  /** Each stage's model, score and rank, for a cascade. */
  rerankStages?: { model: string; score: number; rank: number }[];
}

/**
 * Added by a stage 2 with a latency budget (`CascadeCompressor` with `rerankBudgetMs`): a candidate the budget left
 * unread has no `relevanceScore` and `reranked: false`, and keeps its stage-1 order after the reranked ones.
 */
export type BudgetedRerankMetadata = Omit<RerankMetadata, "relevanceScore"> & {
  relevanceScore?: number;
  reranked?: boolean;
};

/** Added by `TwoStageRetriever`. */
export interface RetrievalMetadata extends Partial<RerankMetadata> {
  /** 1-based stage-1 rank. */
  recallRank: number;
  /** Stage-1 score, higher is better (see the stage-1 source's `scoreKind`). */
  recallScore: number;
  /** False when a timeout or the `fallback` policy returned stage-1 order (then there is no `relevanceScore`). */
  reranked: boolean;
  /** Why stage-1 order was returned, when `reranked` is false. */
  rerankFallback?: string;
  /** The document's own values of keys this package writes, moved here rather than overwritten. */
  shadowedMetadata?: Record<string, unknown>;
}

/** Metadata of a document returned by `CrossEncoderCompressor`. */
export type RerankedDocumentMetadata = RerankMetadata & Record<string, unknown>;

/** Metadata of a document returned by `CascadeCompressor` (which may run under a latency budget). */
export type BudgetedRerankedDocumentMetadata = BudgetedRerankMetadata & Record<string, unknown>;

/** Metadata of a document returned by `TwoStageRetriever`. */
export type RetrievedDocumentMetadata = RetrievalMetadata & Record<string, unknown>;

/**
 * Where a document keeps its own values of metadata keys this package writes (`recallRank`, `relevanceScore`, a
 * hybrid's `bm25Rank`, …): such a value is moved to `metadata.shadowedMetadata[key]` rather than overwritten, so it
 * stays reachable and the top-level key always means what this package documents.
 */
export const SHADOWED_METADATA = "shadowedMetadata";

/** Keys stage 2 writes into a document's metadata. */
export const RERANK_METADATA_KEYS = ["relevanceScore", "rerankRank", "rerankStages", "reranked"] as const;

/** Keys `TwoStageRetriever` writes (besides the stage-1 source's details). */
export const RETRIEVAL_METADATA_KEYS = [
  "recallRank",
  "recallScore",
  "rerankFallback",
  ...RERANK_METADATA_KEYS,
] as const;

/**
 * A copy of `metadata` with the values of `keys` that it holds moved under {@link SHADOWED_METADATA} (merged with any
 * already there); the same object when it holds none of them.
 */
export function shadowMetadata(
  metadata: Record<string, unknown> | undefined,
  keys: Iterable<string>,
): Record<string, unknown> {
  const source = metadata ?? {};
  const moved: Record<string, unknown> = {};
  for (const key of keys) if (Object.prototype.hasOwnProperty.call(source, key)) moved[key] = source[key];
  if (Object.keys(moved).length === 0) return source;
  const rest: Record<string, unknown> = { ...source };
  for (const key of Object.keys(moved)) delete rest[key];
  const earlier = rest[SHADOWED_METADATA];
  const kept = typeof earlier === "object" && earlier !== null && !Array.isArray(earlier) ? earlier : {};
  return { ...rest, [SHADOWED_METADATA]: { ...kept, ...moved } };
}
