import type { Document, DocumentInterface } from "@langchain/core/documents";

import {
  type BudgetedRerankedDocumentMetadata,
  RERANK_METADATA_KEYS,
  shadowMetadata,
} from "../documents/result_metadata.js";
import { copyDocument } from "../documents/copy_document.js";

/**
 * Why stage 2 left a candidate out: a duplicate of an earlier one, scored below `scoreThreshold`, not returned by a
 * compressor that does not rank every candidate, or cut by an earlier stage of a cascade (outside its `keep`).
 */
export type DroppedReason = "duplicate" | "belowThreshold" | "notReturned" | "cascadeCut";

/** What one stage of a cascade did for one candidate. */
export interface StageResult {
  /** The stage's model. */
  model: string;
  /** The stage's score (after activation). */
  score: number;
  /** 1-based rank among the candidates this stage ranked. */
  rank: number;
}

/** What one stage of a cascade did for every candidate, in candidate order. */
export interface StageRanking {
  model: string;
  /** The stage's score of each candidate; NaN where this stage did not read it. */
  scores: number[];
  /** 1-based rank among the candidates this stage ranked; undefined where it did not rank it. */
  ranks: (number | undefined)[];
}

/**
 * What stage 2 decided for every candidate, in candidate order, and the final order. Built by
 * {@link rankScoredCandidates}; the retriever, `explain` and `evaluate` all read results from it, so what
 * diagnostics show is what `invoke` returns.
 */
export interface CandidateRanking {
  /** Relevance score of each candidate (a duplicate carries the score of the copy that was kept). */
  scores: number[];
  /** Why a candidate was left out, or undefined when it was kept. */
  dropped: (DroppedReason | undefined)[];
  /** Indices of the kept candidates, best first (ties keep candidate order). */
  order: number[];
  /**
   * Per candidate, false when a latency budget stopped the (last) stage before it read the candidate: such
   * candidates follow the reranked ones in `order`, in the order they came in, without a score. Undefined when
   * every candidate was read.
   */
  reranked?: boolean[];
  /** Each stage of a cascade, first to last (undefined for a single reranker). */
  stages?: StageRanking[];
}

/** Every stage's score and rank of candidate `index`, for the stages that ranked it (undefined without stages). */
export function stageResults(ranking: CandidateRanking, index: number): StageResult[] | undefined {
  return ranking.stages?.flatMap((stage) => {
    const rank = stage.ranks[index];
    return rank === undefined ? [] : [{ model: stage.model, score: stage.scores[index], rank }];
  });
}

/** Indices `0..scores.length-1` (or `indices`) sorted by score, best first; ties keep their order. */
export function sortByScore(scores: readonly number[], indices?: readonly number[]): number[] {
  const list = indices ? [...indices] : scores.map((_, i) => i);
  return list.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Ranks scored candidates: a candidate sharing any of its keys with an earlier one is dropped as a duplicate (when
 * `keys` is given), scores below
 * `threshold` are dropped, the rest sorted best first. A pure function of its inputs, so a prefix of the
 * candidates ranks exactly as a retriever whose stage 1 returned only that prefix would.
 */
export function rankScoredCandidates(
  scores: readonly number[],
  keys: readonly (string | readonly string[])[] | undefined,
  threshold: number | undefined,
  count = scores.length,
): CandidateRanking {
  const kept: number[] = [];
  const dropped: (DroppedReason | undefined)[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (keys !== undefined) {
      const own = typeof keys[i] === "string" ? [keys[i] as string] : (keys[i] as readonly string[]);
      if (own.some((key) => seen.has(key))) {
        dropped.push("duplicate");
        continue;
      }
      for (const key of own) seen.add(key);
    }
    if (threshold !== undefined && !(scores[i] >= threshold)) {
      dropped.push("belowThreshold");
      continue;
    }
    dropped.push(undefined);
    kept.push(i);
  }
  return { scores: scores.slice(0, count), dropped, order: sortByScore(scores, kept) };
}

/**
 * The kept candidates, best first, at most `topN`, as new Documents (inputs untouched) with `relevanceScore` and
 * 1-based `rerankRank` added to their metadata; with a cascade, `rerankStages` (each stage's model, score and rank);
 * candidates a latency budget left unread carry `reranked: false` and no `relevanceScore`.
 */
export function rankedDocuments<M extends Record<string, unknown>>(
  candidates: readonly DocumentInterface<M>[],
  ranking: CandidateRanking,
  topN: number,
): Document<BudgetedRerankedDocumentMetadata>[] {
  return ranking.order.slice(0, topN).map((index, rank) => {
    const stages = stageResults(ranking, index);
    const read = ranking.reranked?.[index] !== false;
    return copyDocument<BudgetedRerankedDocumentMetadata>(candidates[index], {
      ...shadowMetadata(candidates[index].metadata, RERANK_METADATA_KEYS),
      ...(read ? { relevanceScore: ranking.scores[index] } : { reranked: false }),
      rerankRank: rank + 1,
      ...(stages ? { rerankStages: stages } : {}),
    });
  });
}
