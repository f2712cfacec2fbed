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
}

/** Metadata of a document returned by `CrossEncoderCompressor`. */
export type RerankedDocumentMetadata = RerankMetadata & Record<string, unknown>;

/** Metadata of a document returned by `CascadeCompressor` (which may run under a latency budget). */
export type BudgetedRerankedDocumentMetadata = BudgetedRerankMetadata & Record<string, unknown>;

/** Metadata of a document returned by `TwoStageRetriever`. */
export type RetrievedDocumentMetadata = RetrievalMetadata & Record<string, unknown>;
