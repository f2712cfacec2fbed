import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { withRun } from "../callbacks.js";
import { InvalidArgumentError } from "../errors.js";
import { checkDocumentList, checkQuery, describeValue, durationMs, positiveInteger } from "../validation.js";
import { type CandidateRanking, type DroppedReason, type StageRanking, rankedDocuments } from "./candidate_ranking.js";
import { costEstimatorOf } from "./cost_estimator.js";
import { rankingTrace } from "./ranking_trace.js";
import type { CrossEncoderCompressorParams } from "./cross_encoder_params.js";
import { type ScoreOptions, type StageReranker, isStageReranker } from "./relevance_scorer.js";
import type { SavedRemoteRerankerParams } from "./remote/remote_reranker_params.js";
import type { RankingCompressor } from "./stage2.js";
import { TokenCache, withTokenCache } from "./token_cache.js";

/**
 * Candidates a cascade stage passes on when its `keep` is not given. 50, from the one cascade of real models measured
 * (docs/quality.md, SciFact, BM25 top 100): ms-marco-MiniLM-L-12-v2 reading 128 tokens, then the same model at 512,
 * lost 0.022 nDCG@10 against the full rerank when keeping 20 and 0.001 keeping 50. A cascade saves time when recallK
 * is well above its keep (100 or more); `two-stage eval --then … --keep 10,20,50` measures yours.
 */
export const DEFAULT_CASCADE_KEEP = 50;

/** One stage of a {@link CascadeCompressor}. */
export interface CascadeStage {
  /**
   * The stage's reranker: a local {@link CrossEncoderCompressor} or a {@link RemoteReranker} (any
   * {@link StageReranker}). Its `dedupe` and `scoreThreshold` apply to the candidates it reads.
   */
  reranker: StageReranker;
  /**
   * How many of its best candidates this stage passes to the next (at least the number of documents requested).
   * Not used on the last stage.
   * @default 50
   */
  keep?: number;
  /**
   * The stage's name in metadata, `explain` and callbacks.
   * @default the reranker's `model`
   */
  name?: string;
}

/** A cascade stage as a saved index records it: the reranker's options instead of the reranker. */
export interface SavedCascadeStage {
  /** A local reranker's options, or a remote one's (told apart by its `url`). */
  reranker: CrossEncoderCompressorParams | SavedRemoteRerankerParams;
  keep: number;
  name: string;
}

/** Options of {@link CascadeCompressor}. */
export interface CascadeCompressorParams {
  /**
   * The stages, cheapest first: the first scores every candidate and keeps its best `keep`, each next one reorders
   * what the previous kept, the last one's score is `relevanceScore`. One stage is a plain reranker (useful with
   * {@link rerankBudgetMs}).
   */
  stages: CascadeStage[];
  /**
   * How many documents `compressDocuments` returns.
   * @default 3
   */
  topN?: number;
  /**
   * Latency budget of a rerank, in milliseconds. From a running estimate of each stage's cost per token on this
   * machine, each stage reads only the prefix of its candidates that fits (a stage before the last leaves room for
   * the predicted cost of the later ones), one batch at a time in candidate order, each batch sized to what still
   * fits; candidates the last stage did not read follow the reranked ones in the order they came in, marked
   * `reranked: false`. No batch starts after the budget is spent, so a rerank exceeds it by at most one batch (by
   * less when the estimate is right); the first batch a reranker ever runs is run whole (it calibrates the
   * estimate). Whole milliseconds from 1 to 2³¹ − 1.
   * @default undefined (no budget: every candidate is read)
   */
  rerankBudgetMs?: number;
}

/** Per stage, the scores already computed for one query, by document text: see {@link CascadeRankOptions.memo}. */
export type CascadeScoreMemo = Map<string, number>[];

/** Options of {@link CascadeCompressor.rankCascade}. */
export interface CascadeRankOptions {
  callbacks?: Callbacks;
  /** Documents the caller will take: every stage keeps at least this many. */
  topN?: number;
  /** Overrides the first stage's `keep` (how `evaluate` sweeps it). */
  keep?: number;
  /**
   * Scores of earlier calls for the same query (from {@link CascadeCompressor.scoreMemo}): texts found there are not
   * scored again, new scores are added. Cross-encoder scores are per (query, text) pair, so one memo serves every
   * candidate list and `keep` of one query. The budget does not apply.
   */
  memo?: CascadeScoreMemo;
  /**
   * Apply {@link CascadeCompressorParams.rerankBudgetMs}.
   * @default true
   */
  budget?: boolean;
  /** Cancels the rerank: no stage starts another batch (or request), and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What one stage's scoring read. */
interface StageScores {
  /** Scores of the first `scores.length` candidates given (the prefix the budget allowed). */
  scores: number[];
}

/**
 * Cascade reranking, as one LangChain document compressor: a cheap cross-encoder scores every candidate and keeps
 * the best `keep`, a stronger one reorders only those (Vespa-style multi-phase ranking). The last stage's score is
 * `metadata.relevanceScore`; `metadata.rerankStages` holds every stage's model, score and rank; candidates cut by an
 * earlier stage are dropped as `cascadeCut` (see `explain`). The stages tokenize each candidate once when their
 * tokenizers share a vocabulary. Each stage is its own child run in LangChain callbacks with its milliseconds.
 * Works wherever LangChain takes a compressor (`ContextualCompressionRetriever`, `TwoStageRetriever`).
 *
 * @example
 * ```ts
 * const cascade = new CascadeCompressor({
 *   stages: [
 *     { reranker: new CrossEncoderCompressor({ model: "Xenova/ms-marco-TinyBERT-L-2-v2" }), keep: 20 },
 *     { reranker: new CrossEncoderCompressor({ model: "Xenova/ms-marco-MiniLM-L-6-v2" }) },
 *   ],
 *   topN: 4,
 * });
 * const docs = await cascade.compressDocuments(candidates, "what causes tides?");
 * docs[0].metadata.rerankStages;
 * // [{ model: "Xenova/ms-marco-TinyBERT-L-2-v2", score: 0.91, rank: 3 }, { model: "Xenova/ms-marco-MiniLM-L-6-v2", score: 0.98, rank: 1 }]
 * ```
 */
export class CascadeCompressor extends BaseDocumentCompressor implements RankingCompressor {
  readonly stages: readonly Required<CascadeStage>[];
  readonly topN: number = 3;
  readonly rerankBudgetMs?: number;

  constructor(params: CascadeCompressorParams) {
    super();
    const stages = params?.stages;
    if (!Array.isArray(stages) || stages.length === 0) {
      throw new InvalidArgumentError(
        `stages must be a non-empty array of { reranker, keep }; got ${describeValue(stages)}. ` +
          "Pass the cheap reranker first and the strong one last.",
        { argument: "stages" },
      );
    }
    this.stages = stages.map((stage, i) => {
      if (!isStageReranker(stage?.reranker)) {
        throw new InvalidArgumentError(
          `stages[${i}].reranker is ${describeValue(stage?.reranker)}; expected a CrossEncoderCompressor or a ` +
            "RemoteReranker (a StageReranker: score, scoreDocuments, rankScored, costUnits).",
          { argument: `stages[${i}].reranker` },
        );
      }
      positiveInteger(`stages[${i}].keep`, stage.keep);
      return {
        reranker: stage.reranker,
        keep: stage.keep ?? DEFAULT_CASCADE_KEEP,
        name: stage.name ?? stage.reranker.model,
      };
    });
    this.topN = params.topN ?? this.topN;
    this.rerankBudgetMs = params.rerankBudgetMs;
    positiveInteger("topN", this.topN);
    durationMs("rerankBudgetMs", this.rerankBudgetMs, "omit rerankBudgetMs");
  }

  /** An empty per-stage score memo for one query (see {@link CascadeRankOptions.memo}). */
  scoreMemo(): CascadeScoreMemo {
    return this.stages.map(() => new Map<string, number>());
  }

  /**
   * The options that rebuild this cascade (each stage's reranker as its `savedParams()`),
   * or undefined when a stage's reranker cannot be saved (an injected model).
   */
  savedParams(): (Omit<CascadeCompressorParams, "stages"> & { stages: SavedCascadeStage[] }) | undefined {
    const stages = this.stages.map(({ reranker, keep, name }) => {
      const params = reranker.savedParams();
      return params && { reranker: params as SavedCascadeStage["reranker"], keep, name };
    });
    if (stages.some((stage) => stage === undefined)) return undefined;
    return {
      stages: stages as SavedCascadeStage[],
      topN: this.topN,
      ...(this.rerankBudgetMs !== undefined ? { rerankBudgetMs: this.rerankBudgetMs } : {}),
    };
  }

  /** Releases every stage's model (the stages' `dispose`). The next call loads them again. */
  async dispose(): Promise<void> {
    await Promise.all([...new Set(this.stages.map((s) => s.reranker))].map((reranker) => reranker.dispose()));
  }

  override async compressDocuments(
    documents: DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
  ): Promise<DocumentInterface[]> {
    const ranking = await this.rankCandidates(documents, query, callbacks, this.topN);
    return rankedDocuments(documents, ranking, this.topN);
  }

  /** The cascade's ranking of every candidate (see {@link rankCascade}), as stage 2 of `TwoStageRetriever`. */
  rankCandidates(
    documents: readonly DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
    topN?: number,
    options: ScoreOptions = {},
  ): Promise<CandidateRanking> {
    return this.rankCascade(documents, query, { callbacks, topN, signal: options.signal });
  }

  /**
   * The last stage's score of each candidate, NaN where an earlier stage cut it; runs the cascade without the
   * budget. `rankScored(documents, scoreDocuments(documents, query))` then orders as `rankCandidates` does.
   */
  async scoreDocuments(
    documents: readonly DocumentInterface[],
    query: string,
    options: ScoreOptions = {},
  ): Promise<number[]> {
    return (await this.rankCascade(documents, query, { budget: false, signal: options.signal })).scores;
  }

  /**
   * Ranks final scores with the last stage's rule (dedupe, threshold); candidates without a score (cut by an earlier
   * stage) are dropped as `cascadeCut`.
   */
  rankScored(documents: readonly DocumentInterface[], scores: readonly number[]): CandidateRanking {
    const scored = scores.flatMap((score, i) => (Number.isFinite(score) ? [i] : []));
    const last = this.stages[this.stages.length - 1].reranker;
    const ranking = last.rankScored(
      scored.map((i) => documents[i]),
      scored.map((i) => scores[i]),
    );
    const dropped: (DroppedReason | undefined)[] = scores.map(() => "cascadeCut");
    scored.forEach((i, j) => (dropped[i] = ranking.dropped[j]));
    return { scores: [...scores], dropped, order: ranking.order.map((j) => scored[j]) };
  }

  /**
   * Runs the stages over the candidates: stage k scores (the prefix the budget allows of) what stage k-1 kept,
   * applies its dedupe and threshold, and passes its best `keep` on. Returns every candidate's fate: final scores
   * (NaN where the last stage did not score it), dropped reasons (`cascadeCut` for candidates outside a stage's
   * `keep`), the final order (the last stage's ranking, then any candidates a budget left unread, in the order they
   * came in), `reranked` when some were unread, and each stage's scores and ranks.
   */
  async rankCascade(
    documents: readonly DocumentInterface[],
    query: string,
    options: CascadeRankOptions = {},
  ): Promise<CandidateRanking> {
    checkQuery(query);
    checkDocumentList(documents);
    positiveInteger("topN", options.topN);
    positiveInteger("keep", options.keep);
    const count = documents.length;
    if (count === 0) return { scores: [], dropped: [], order: [], stages: [] };
    const { memo, callbacks } = options;
    if (memo !== undefined && memo.length !== this.stages.length) {
      throw new InvalidArgumentError(
        `memo has ${memo.length} stage maps; this cascade has ${this.stages.length} stages. Use cascade.scoreMemo().`,
        { argument: "memo" },
      );
    }
    const started = performance.now();
    const budgeted = memo === undefined && options.budget !== false && this.rerankBudgetMs !== undefined;
    const deadline = budgeted ? started + this.rerankBudgetMs! : undefined;
    const { result } = await withRun(
      callbacks,
      "CascadeCompressor",
      {
        query,
        inputCount: count,
        stages: this.stages.map((s) => s.name),
        rerankBudgetMs: budgeted ? this.rerankBudgetMs : undefined,
      },
      (run) =>
        withTokenCache(new TokenCache(), () => this.runStages(documents, query, options, deadline, run?.getChild())),
      (ranking, ms) => ({
        inputCount: count,
        keptCount: ranking.order.length,
        unread: ranking.reranked?.filter((read) => !read).length ?? 0,
        ...rankingTrace(documents, ranking),
        ms,
      }),
    );
    return result;
  }

  private async runStages(
    documents: readonly DocumentInterface[],
    query: string,
    options: CascadeRankOptions,
    deadline: number | undefined,
    callbacks: Callbacks | undefined,
  ): Promise<CandidateRanking> {
    const count = documents.length;
    const dropped: (DroppedReason | undefined)[] = new Array(count).fill(undefined);
    const stages: StageRanking[] = [];
    /** Candidates each stage did not read (budget), in the order they came to it. */
    const unread: number[][] = [];
    let input = documents.map((_, i) => i);
    let finalOrder: number[] = [];
    let finalScores: number[] = new Array<number>(count).fill(Number.NaN);
    for (const [k, stage] of this.stages.entries()) {
      const last = k === this.stages.length - 1;
      const keep = Math.max((k === 0 ? options.keep : undefined) ?? stage.keep, options.topN ?? 0);
      const inputCount = input.length;
      const stageInput = { model: stage.name, inputCount, keep: last ? undefined : keep };
      await withRun(
        callbacks,
        `cascade stage ${k + 1}`,
        stageInput,
        async () => {
          const docs = input.map((i) => documents[i]);
          const reserveMs = last ? 0 : this.laterStagesMs(k, keep);
          const { scores } = await this.scoreStage(stage.reranker, docs, query, options, k, deadline, reserveMs);
          const read = input.slice(0, scores.length);
          unread.push(input.slice(scores.length));
          const ranking = stage.reranker.rankScored(
            read.map((i) => documents[i]),
            scores,
          );
          const stageScores = new Array<number>(count).fill(Number.NaN);
          const ranks = new Array<number | undefined>(count).fill(undefined);
          read.forEach((candidate, j) => {
            stageScores[candidate] = scores[j];
            if (ranking.dropped[j] !== undefined) dropped[candidate] = ranking.dropped[j];
          });
          const order = ranking.order.map((j) => read[j]);
          order.forEach((candidate, rank) => (ranks[candidate] = rank + 1));
          stages.push({ model: stage.name, scores: stageScores, ranks });
          if (last) {
            finalOrder = order;
            finalScores = stageScores;
          } else {
            for (const candidate of order.slice(keep)) dropped[candidate] = "cascadeCut";
            input = order.slice(0, keep);
          }
          return { read, order, ranking };
        },
        ({ read, order, ranking }, ms) => ({
          inputCount,
          readCount: read.length,
          keptCount: last ? order.length : Math.min(keep, order.length),
          // Ranks are within this stage: inputRank is the place the previous stage (or the caller) gave.
          ...rankingTrace(
            read.map((i) => documents[i]),
            ranking,
          ),
          ms,
        }),
      );
    }
    const leftUnread = unread.reverse().flat();
    const ranking: CandidateRanking = {
      scores: finalScores,
      dropped,
      order: [...finalOrder, ...leftUnread],
      stages,
    };
    if (leftUnread.length > 0) {
      const reranked = new Array<boolean>(count).fill(true);
      for (const candidate of leftUnread) reranked[candidate] = false;
      ranking.reranked = reranked;
    }
    return ranking;
  }

  /** Predicted milliseconds of the stages after stage `k` when it keeps `keep` candidates (0 when not yet known). */
  private laterStagesMs(k: number, keep: number): number {
    let total = 0;
    for (let t = k + 1; t < this.stages.length; t++) {
      total += costEstimatorOf(this.stages[t].reranker).predictPairs(keep) ?? 0;
    }
    return total;
  }

  /**
   * One stage's scores of `docs`: from the memo where it has them; else all at once without a budget; else batch by
   * batch in candidate order, each batch cut to what the estimate says fits (with `reserveMs` left for later stages).
   */
  private async scoreStage(
    reranker: StageReranker,
    docs: DocumentInterface[],
    query: string,
    options: CascadeRankOptions,
    k: number,
    deadline: number | undefined,
    reserveMs: number,
  ): Promise<StageScores> {
    const memo = options.memo?.[k];
    const { signal } = options;
    if (memo) {
      const missing = [
        ...new Map(docs.filter((d) => !memo.has(d.pageContent)).map((d) => [d.pageContent, d])).values(),
      ];
      if (missing.length > 0) {
        const scores = await this.timedScore(reranker, missing, query, signal);
        missing.forEach((doc, i) => memo.set(doc.pageContent, scores[i]));
      }
      return { scores: docs.map((doc) => memo.get(doc.pageContent)!) };
    }
    if (deadline === undefined) return { scores: await this.timedScore(reranker, docs, query, signal) };
    const estimator = costEstimatorOf(reranker);
    const scores: number[] = [];
    while (scores.length < docs.length && performance.now() < deadline) {
      let size = Math.min(reranker.batchSize, docs.length - scores.length);
      const perPair = estimator.predictPairs(1);
      if (perPair !== undefined) {
        // Size the batch to what the estimate says still fits, then check it on its real cost (a local model's
        // padded tokens; a remote model's pairs).
        size = Math.min(size, Math.floor((deadline - performance.now() - reserveMs) / perPair));
        while (size >= 1) {
          const units = await reranker.costUnits(
            query,
            docs.slice(scores.length, scores.length + size).map((doc) => doc.pageContent),
          );
          const predicted = estimator.predict(units)!;
          if (performance.now() + predicted + reserveMs <= deadline) break;
          size = Math.floor(size / 2);
        }
        if (size < 1) break;
      }
      scores.push(...(await this.timedScore(reranker, docs.slice(scores.length, scores.length + size), query, signal)));
    }
    return { scores };
  }

  /**
   * Scores documents with a stage's reranker and feeds its cost estimate (milliseconds per cost unit: per padded
   * token for a local model, per pair from the measured request latency for a remote one).
   */
  private async timedScore(
    reranker: StageReranker,
    docs: readonly DocumentInterface[],
    query: string,
    signal: AbortSignal | undefined,
  ): Promise<number[]> {
    const started = performance.now();
    const scores = await reranker.scoreDocuments(docs, query, { signal });
    const cost = reranker.lastCost;
    if (cost) costEstimatorOf(reranker).observe(cost.units, performance.now() - started, cost.pairs);
    return scores;
  }
}

/** Whether a compressor is a {@link CascadeCompressor} (evaluate ranks cascades per candidate list). */
export function isCascadeCompressor(compressor: unknown): compressor is CascadeCompressor {
  return compressor instanceof CascadeCompressor;
}
