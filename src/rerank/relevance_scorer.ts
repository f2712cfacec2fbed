// The text-level seam of stage 2: what a local cross-encoder (CrossEncoderCompressor) and a remote one
// (RemoteReranker) both are, so cascades, budgets, timeouts, explain and evaluate drive either the same way.
import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { DocumentInterface } from "@langchain/core/documents";

import type { CandidateRanking } from "./candidate_ranking.js";

/** Options of one scoring call. */
export interface ScoreOptions {
  /**
   * Cancels the call: a local model stops before its next batch, a remote one aborts its HTTP request. The call
   * rejects with the signal's reason. `TwoStageRetriever` aborts it when `rerankTimeoutMs` passes.
   */
  signal?: AbortSignal;
}

/** What the most recent scoring call cost, in the units a scorer prices its work in. */
export interface ScoringCost {
  /** Cost units: padded tokens for a local model, pairs sent for a remote one. */
  units: number;
  /** (query, text) pairs scored. */
  pairs: number;
}

/**
 * Scores texts against a query: higher is more relevant. The plug point of stage 2 below the LangChain compressor:
 * anything that implements it (with {@link StageReranker}'s document half) works as a cascade stage, under a
 * latency budget, a timeout and in `evaluate`.
 */
export interface RelevanceScorer {
  /** The model's name (a cascade stage's default name; recorded in metadata and `explain`). */
  readonly model: string;
  /** Largest number of texts one call to the model (one batch, one HTTP request) takes; a budget sizes batches by it. */
  readonly batchSize: number;
  /** Relevance of each text to the query, in input order. */
  score(query: string, texts: readonly string[], options?: ScoreOptions): Promise<number[]>;
  /**
   * What scoring `texts` would cost, in {@link ScoringCost.units}, without scoring them: a budget prices a batch
   * with it before running it (padded tokens of the batches a local model would run; the number of pairs for a
   * remote one, whose cost is learnt from its measured per-request latency).
   */
  costUnits(query: string, texts: readonly string[]): Promise<number>;
  /** What the most recent scoring call cost; undefined before the first. */
  readonly lastCost?: ScoringCost;
}

/**
 * A compressor that scores and ranks every candidate (as `CrossEncoderCompressor` does): `rankCandidates` is
 * `rankScored(documents, await scoreDocuments(documents, query))`, and `evaluate` uses the two halves to rank many
 * recallK prefixes from one scoring.
 */
export interface RankingCompressor {
  rankCandidates(
    documents: readonly DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
    topN?: number,
    options?: ScoreOptions,
  ): Promise<CandidateRanking>;
  scoreDocuments(documents: readonly DocumentInterface[], query: string, options?: ScoreOptions): Promise<number[]>;
  rankScored(documents: readonly DocumentInterface[], scores: readonly number[]): CandidateRanking;
}

/**
 * A relevance scorer as stage 2 and a cascade stage use it: the document-level half of a reranker (scores every
 * candidate, ranks them with its own rule), and its life cycle.
 */
export interface StageReranker extends RelevanceScorer, RankingCompressor {
  /** The options that rebuild it (what a saved index records), or undefined when it cannot be saved. */
  savedParams(): object | undefined;
  /** Releases what it holds (a model, connections); the next call acquires them again. */
  dispose(): Promise<void>;
}

/** Whether a value implements {@link StageReranker} (a cascade stage's reranker). */
export function isStageReranker(value: unknown): value is StageReranker {
  const candidate = value as Partial<StageReranker> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.model === "string" &&
    typeof candidate.batchSize === "number" &&
    ["score", "costUnits", "scoreDocuments", "rankScored", "rankCandidates", "savedParams", "dispose"].every(
      (method) => typeof (candidate as Record<string, unknown>)[method] === "function",
    )
  );
}
