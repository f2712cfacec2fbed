// What a ranking run reports when it ends (callback handlers, LangSmith, streamEvents): which documents it read, where
// they came in, where they went, with which score — ids and numbers only, at most TRACE_LIMIT entries per list.
import type { DocumentInterface } from "@langchain/core/documents";

import { traceId } from "../documents/document_key.js";
import type { CandidateRanking, DroppedReason } from "./candidate_ranking.js";

/** Most entries one list of a trace holds; the rest are counted in `omitted`. */
export const TRACE_LIMIT = 50;

/** A score as a trace shows it: 6 significant digits (enough to tell neighbours apart); null when there is none. */
export function traceScore(score: number | undefined): number | null {
  return score === undefined || !Number.isFinite(score) ? null : Number(score.toPrecision(6));
}

/** One ranked document in a trace. */
export interface TracedRank {
  /** 1-based rank after this run. */
  rank: number;
  /** The document's id ({@link traceId}: its own id, else a hash of its text). */
  id: string;
  /** 1-based rank (position) the document came in with: its stage-1 rank in the retriever's `rerank` run. */
  inputRank: number;
  /** The score it came in with (its stage-1 score in the retriever's `rerank` run), when there is one. */
  inputScore?: number | null;
  /** This run's score; null when the run did not read the document (a latency budget). */
  score: number | null;
  /** Places it moved: `inputRank - rank` (positive: moved up). */
  move: number;
}

/** One document a ranking left out, in a trace. */
export interface TracedDrop {
  id: string;
  inputRank: number;
  reason: DroppedReason;
}

/** The part of a run's outputs that shows what a ranking did. */
export interface RankingTrace {
  /** Kept documents, best first (the first `returned` are what the caller gets), at most {@link TRACE_LIMIT}. */
  ranked: TracedRank[];
  /** Documents left out and why, in input order, at most {@link TRACE_LIMIT}. */
  dropped: TracedDrop[];
  /** Entries left out of `ranked` and `dropped` to keep the trace small. */
  omitted?: number;
}

/** How a trace names where documents came from. */
export interface RankingTraceInputs {
  /** The 1-based rank document `i` came in with (default: its position + 1). */
  rank?: (index: number) => number;
  /** The score document `i` came in with, if any. */
  score?: (index: number) => number | undefined;
}

/**
 * The trace of one ranking of `documents`: the kept ones in final order with input rank, score and move, then the
 * dropped ones with their reason. Built only when a callback listens (run outputs are computed then).
 */
export function rankingTrace(
  documents: readonly DocumentInterface[],
  ranking: CandidateRanking,
  inputs: RankingTraceInputs = {},
): RankingTrace {
  const inputRank = inputs.rank ?? ((i: number) => i + 1);
  const ranked = ranking.order.slice(0, TRACE_LIMIT).map((index, k): TracedRank => {
    const from = inputRank(index);
    const read = ranking.reranked?.[index] !== false;
    return {
      rank: k + 1,
      id: traceId(documents[index]),
      inputRank: from,
      ...(inputs.score ? { inputScore: traceScore(inputs.score(index)) } : {}),
      score: read ? traceScore(ranking.scores[index]) : null,
      move: from - (k + 1),
    };
  });
  const droppedAll = ranking.dropped.flatMap((reason, index) => (reason ? [{ index, reason }] : []));
  const dropped = droppedAll
    .slice(0, TRACE_LIMIT)
    .map(({ index, reason }) => ({ id: traceId(documents[index]), inputRank: inputRank(index), reason }));
  const omitted = ranking.order.length - ranked.length + droppedAll.length - dropped.length;
  return { ranked, dropped, ...(omitted > 0 ? { omitted } : {}) };
}
