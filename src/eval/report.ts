// The evaluation report, apart from collecting it (evaluate.ts runs the queries and records a QueryObservation
// each): metrics, latency quantiles, the stage-1 rank histogram and the recommendations, and the report's rules,
// each stated once.
import { type Judgments, mean, mrrAt, ndcgAt, quantile, recallAt } from "./metrics.js";

/**
 * How far below the best nDCG@topK a row may be and still be recommended: the smallest recallK (or keep) within it
 * of the best wins.
 */
export const NDCG_TOLERANCE = 0.005;

/** Two scores are the same when they differ by no more than this (rankings of one model on one machine). */
export const SCORE_TOLERANCE = 1e-6;

/** The first row (in sweep order: the smallest recallK or keep) whose nDCG is within {@link NDCG_TOLERANCE} of `best`. */
export function firstNearBest<T extends { ndcg: number }>(rows: readonly T[], best: number): T | undefined {
  return rows.find((row) => row.ndcg >= best - NDCG_TOLERANCE);
}

/**
 * Whether two rankings have the same top-K, up to ties: position by position, the same score (within
 * {@link SCORE_TOLERANCE}), and as many entries.
 */
export function sameTopK(
  ours: readonly { score: number }[],
  theirs: readonly { score: number }[],
  topK: number,
): boolean {
  const a = ours.slice(0, topK);
  const b = theirs.slice(0, topK);
  return a.length === b.length && a.every((entry, i) => Math.abs(entry.score - b[i].score) <= SCORE_TOLERANCE);
}

/** One ranked document of a run. */
export interface RunEntry {
  docId: string;
  score: number;
}

/** Quality and latency at one recallK. */
export interface RecallKResult {
  recallK: number;
  ndcg: number;
  mrr: number;
  /** Recall@recallK of stage 1: the ceiling no reranker can exceed. */
  recall: number;
  /**
   * Stage-1 "ANN recall" (with `exactStage1`): |stage-1 top-recallK ∩ exact top-recallK| / recallK, averaged over
   * queries (divided by fewer when the exact search finds fewer). Below 1, the approximate index loses candidates
   * exact search would have given stage 2: raise `ef_search`.
   */
  annRecall?: number;
  /** Stage-1 latency at this recallK (embedding the query included), measured for every query. */
  recallP50Ms: number;
  recallP95Ms: number;
  /** Stage-2 latency at this recallK, measured on the first `latencyQueries` queries. */
  rerankP50Ms: number;
  rerankP95Ms: number;
  /**
   * Share of queries whose two-stage top-K equals the top-K of reranking the whole corpus (when computed); documents
   * with tied scores count as interchangeable.
   */
  oracleAgreement?: number;
  /** Judged relevant documents stage 1 ranked below this recallK (lost to stage 2). */
  judgedBeyond: number;
}

/** Quality and latency of one `keep` of a cascade's first stage (or of the last stage alone). */
export interface KeepResult {
  /** The first stage's keep; for the full rerank, the number of candidates (the largest recallK). */
  keep: number;
  ndcg: number;
  mrr: number;
  /** Share of queries whose top-K equals the full rerank's top-K (position by position, ties interchangeable). */
  sameTopK: number;
  /** Stage-2 latency, measured on the first `latencyQueries` queries. */
  rerankP50Ms: number;
  rerankP95Ms: number;
}

/** A cascade's keep sweep at one recallK. */
export interface KeepSweep {
  recallK: number;
  /** The last stage alone reranking every candidate. */
  full: KeepResult;
  results: KeepResult[];
  /** The smallest keep whose nDCG@topK is within {@link NDCG_TOLERANCE} of the best row (the full rerank included); "full" if none. */
  recommendation: { keep: number | "full"; ndcg: number; fullNdcg: number; latencyP50Ms: number };
}

/** The outcome of {@link evaluate}. */
export interface EvaluationReport {
  dataset: string;
  queries: number;
  topK: number;
  /** nDCG@topK of stage 1 alone (no reranking), for reference. */
  stage1Ndcg: number;
  /** True when only stage 1 was evaluated (`stage1Only`): every ranking is stage 1's, no reranker ran. */
  stage1Only: boolean;
  results: RecallKResult[];
  /** Where judged relevant documents land in stage 1: bucket label → count. */
  rankHistogram: { bucket: string; count: number }[];
  judgedTotal: number;
  /** The smallest recallK whose nDCG@topK is within {@link NDCG_TOLERANCE} of the best in the sweep. */
  recommendation: { recallK: number; ndcg: number; bestNdcg: number; latencyP50Ms: number };
  unknownDocumentJudgments: number;
  /** With `keeps` and a cascade: the keep sweep at the largest recallK. */
  keepSweep?: KeepSweep;
  /** Stage-1 ranking (depth max recallK) and stage-2 rankings per recallK, by query id: for TREC run files. */
  runs: { stage1: Map<string, RunEntry[]>; stage2: Map<number, Map<string, RunEntry[]>> };
  wallMs: number;
}

const BUCKETS: [string, number, number][] = [
  ["1-10", 1, 10],
  ["11-20", 11, 20],
  ["21-50", 21, 50],
  ["51-100", 51, 100],
  ["101-200", 101, 200],
  ["201-500", 201, 500],
  ["501-1000", 501, 1000],
];

/** What one query did at one recallK. */
export interface AtRecallK {
  /** Stage-1 document ids, best first. */
  stage1: string[];
  /** Stage-2 ranking (kept candidates, best first). */
  ranking: RunEntry[];
  recallMs: number;
  rerankMs?: number;
  /** Two-stage top-K equals the whole-corpus rerank's top-K (when computed). */
  oracleSame?: boolean;
  /** Share of the exact top-recallK in stage 1's (when an exact stage 1 is given). */
  annRecall?: number;
}

/** What one query did at one keep of a cascade (or with the last stage alone: key `full`). */
export interface AtKeep {
  ranking: RunEntry[];
  rerankMs?: number;
}

/** Everything measured for one query; {@link aggregate} turns a list of these into the report. */
export interface QueryObservation {
  queryId: string;
  judgments: Judgments;
  /** Stage-1 ranking at the largest recallK. */
  stage1: RunEntry[];
  perK: Map<number, AtRecallK>;
  perKeep?: Map<number | "full", AtKeep>;
}

/** The settings the report reads. */
export interface ReportSettings {
  recallKs: number[];
  topK: number;
  keeps?: number[];
  stage1Only: boolean;
}

/** Metrics, latency quantiles, the stage-1 rank histogram and the recommendation, from the observations. */
export function aggregate(
  observations: QueryObservation[],
  settings: ReportSettings,
): Omit<EvaluationReport, "dataset" | "unknownDocumentJudgments" | "wallMs"> {
  const { recallKs, topK } = settings;
  const histogram = new Map<string, number>([
    ...BUCKETS.map(([label]): [string, number] => [label, 0]),
    ["not retrieved", 0],
  ]);
  let judgedTotal = 0;
  for (const { judgments, stage1 } of observations) {
    const ranks = new Map(stage1.map((entry, i) => [entry.docId, i + 1]));
    for (const [docId] of judgments) {
      judgedTotal += 1;
      const rank = ranks.get(docId) ?? 0;
      const bucket = BUCKETS.find(([, lo, hi]) => rank >= lo && rank <= hi)?.[0] ?? "not retrieved";
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
    }
  }
  const results: RecallKResult[] = recallKs.map((k) => {
    const at = observations.map((o) => ({ judgments: o.judgments, ...o.perK.get(k)! }));
    const rankings = at.map((a) => a.ranking.map((e) => e.docId));
    const recallMs = at.map((a) => a.recallMs);
    const rerankMs = at.flatMap((a) => (a.rerankMs === undefined ? [] : [a.rerankMs]));
    const oracle = at.flatMap((a) => (a.oracleSame === undefined ? [] : [a.oracleSame ? 1 : 0]));
    const ann = at.flatMap((a) => (a.annRecall === undefined ? [] : [a.annRecall]));
    return {
      recallK: k,
      ndcg: mean(at.map((a, i) => ndcgAt(rankings[i], a.judgments, topK))),
      mrr: mean(at.map((a, i) => mrrAt(rankings[i], a.judgments, topK))),
      recall: mean(at.map((a) => recallAt(a.stage1, a.judgments, k))),
      annRecall: ann.length > 0 ? mean(ann) : undefined,
      recallP50Ms: quantile(recallMs, 0.5),
      recallP95Ms: quantile(recallMs, 0.95),
      rerankP50Ms: quantile(rerankMs, 0.5),
      rerankP95Ms: quantile(rerankMs, 0.95),
      oracleAgreement: oracle.length > 0 ? mean(oracle) : undefined,
      judgedBeyond: at.reduce((sum, a) => {
        const seen = new Set(a.stage1);
        return sum + [...a.judgments.keys()].filter((id) => !seen.has(id)).length;
      }, 0),
    };
  });
  const bestNdcg = Math.max(...results.map((r) => r.ndcg));
  const chosen = firstNearBest(results, bestNdcg)!;
  const keepSweep =
    settings.keeps && observations.some((o) => o.perKeep) ? aggregateKeeps(observations, settings) : undefined;
  return {
    keepSweep,
    queries: observations.length,
    topK,
    stage1Only: settings.stage1Only,
    stage1Ndcg: mean(
      observations.map((o) =>
        ndcgAt(
          o.stage1.map((e) => e.docId),
          o.judgments,
          topK,
        ),
      ),
    ),
    results,
    rankHistogram: [...histogram.entries()]
      .map(([bucket, count]) => ({ bucket, count }))
      .filter((b) => b.count > 0 || b.bucket === "not retrieved"),
    judgedTotal,
    recommendation: {
      recallK: chosen.recallK,
      ndcg: chosen.ndcg,
      bestNdcg,
      latencyP50Ms: chosen.recallP50Ms + chosen.rerankP50Ms,
    },
    runs: {
      stage1: new Map(observations.map((o) => [o.queryId, o.stage1])),
      stage2: new Map(recallKs.map((k) => [k, new Map(observations.map((o) => [o.queryId, o.perK.get(k)!.ranking]))])),
    },
  };
}

/** The keep sweep's rows: each keep and the full rerank, with agreement and the recommendation. */
function aggregateKeeps(observations: QueryObservation[], settings: ReportSettings): KeepSweep {
  const { topK } = settings;
  const withKeeps = observations.filter((o) => o.perKeep);
  const row = (key: number | "full"): KeepResult => {
    const at = withKeeps.map((o) => ({
      judgments: o.judgments,
      entry: o.perKeep!.get(key)!,
      full: o.perKeep!.get("full")!,
    }));
    const rerankMs = at.flatMap((a) => (a.entry.rerankMs === undefined ? [] : [a.entry.rerankMs]));
    const meanOf = (metric: (ranking: string[], judgments: Judgments, k: number) => number) =>
      mean(
        at.map((a) =>
          metric(
            a.entry.ranking.map((e) => e.docId),
            a.judgments,
            topK,
          ),
        ),
      );
    return {
      keep: key === "full" ? Math.max(...settings.recallKs) : key,
      ndcg: meanOf(ndcgAt),
      mrr: meanOf(mrrAt),
      sameTopK: mean(
        at.map((a) => {
          return sameTopK(a.entry.ranking, a.full.ranking, topK) ? 1 : 0;
        }),
      ),
      rerankP50Ms: quantile(rerankMs, 0.5),
      rerankP95Ms: quantile(rerankMs, 0.95),
    };
  };
  const full = row("full");
  const results = settings.keeps!.map(row);
  const best = Math.max(full.ndcg, ...results.map((r) => r.ndcg));
  const chosen = firstNearBest(results, best);
  return {
    recallK: Math.max(...settings.recallKs),
    full,
    results,
    recommendation: {
      keep: chosen?.keep ?? "full",
      ndcg: (chosen ?? full).ndcg,
      fullNdcg: full.ndcg,
      latencyP50Ms: (chosen ?? full).rerankP50Ms,
    },
  };
}
