import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { Document, DocumentInterface } from "@langchain/core/documents";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { copyDocument } from "../documents/copy_document.js";
import { documentKey } from "../documents/document_key.js";
import { type CandidateRanking, type DroppedReason, rankedDocuments } from "./candidate_ranking.js";
import type { RankingCompressor } from "./relevance_scorer.js";

export type { RankingCompressor } from "./relevance_scorer.js";

/** What stage 2 did with a query's candidates. */
export interface Stage2Outcome {
  /** Per-candidate decisions and the final order. */
  ranking: CandidateRanking;
  /** The documents returned, best first, at most topK, each with its candidate's `recallRank` in metadata. */
  documents: DocumentInterface[];
}

/** Stage 2 as the retriever drives it. */
export interface Stage2 {
  /** `signal` cancels a ranking compressor's work (a compressor that does not rank every candidate ignores it). */
  rank(
    candidates: Document[],
    query: string,
    topK: number,
    callbacks?: Callbacks,
    signal?: AbortSignal,
  ): Promise<Stage2Outcome>;
}

/** Whether a compressor scores every candidate (then `explain` and `evaluate` can show each candidate's score). */
export function isRankingCompressor(compressor: unknown): compressor is RankingCompressor {
  const candidate = compressor as Partial<RankingCompressor> | null;
  return (
    typeof candidate?.rankCandidates === "function" &&
    typeof candidate.scoreDocuments === "function" &&
    typeof candidate.rankScored === "function"
  );
}

/**
 * Adapts a LangChain document compressor to stage 2. A ranking compressor's decisions are used as they are; any
 * other compressor's output is taken as the result (cut to topK), and each output is matched back to its candidate
 * (by {@link documentKey}) so `explain` can tell which candidates came back. Candidates it did not return are marked
 * `notReturned`.
 */
export function toStage2(compressor: BaseDocumentCompressor): Stage2 {
  if (isRankingCompressor(compressor)) {
    return {
      async rank(candidates, query, topK, callbacks, signal) {
        const ranking = await compressor.rankCandidates(candidates, query, callbacks, topK, { signal });
        return { ranking, documents: rankedDocuments(candidates, ranking, topK) };
      },
    };
  }
  return {
    async rank(candidates, query, topK, callbacks) {
      const outputs = (await compressor.compressDocuments(candidates, query, callbacks)).slice(0, topK);
      const unused = new Map<string, number[]>();
      candidates.forEach((doc, i) => {
        const key = documentKey(doc);
        unused.set(key, [...(unused.get(key) ?? []), i]);
      });
      const order: number[] = [];
      const scores = candidates.map(() => Number.NaN);
      const documents = outputs.map((doc) => {
        const index = unused.get(documentKey(doc))?.shift();
        if (index === undefined) return doc;
        order.push(index);
        const score = doc.metadata?.relevanceScore;
        if (typeof score === "number") scores[index] = score;
        const { recallRank, recallScore } = candidates[index].metadata;
        return copyDocument(doc, { recallRank, recallScore, ...doc.metadata });
      });
      const returned = new Set(order);
      const dropped = candidates.map((_, i): DroppedReason | undefined =>
        returned.has(i) ? undefined : "notReturned",
      );
      return { ranking: { scores, dropped, order }, documents };
    },
  };
}
