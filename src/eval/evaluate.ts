import { Document } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { nonNegativeInteger, positiveInteger } from "../validation.js";
import { type CascadeCompressor, type CascadeScoreMemo, isCascadeCompressor } from "../rerank/cascade_compressor.js";
import { type RankingCompressor, isRankingCompressor } from "../rerank/stage2.js";
import type { RecallSource } from "../recall/recall_source.js";
import type { TwoStageRetriever } from "../two_stage_retriever.js";
import { type BeirDataset, documentText } from "./beir_dataset.js";
import { type Judgments, mean, mrrAt, ndcgAt, quantile, recallAt } from "./metrics.js";

/** Options of {@link evaluate}. */
export interface EvaluateParams {
  /**
   * The recallK values to sweep.
   * @default [10, 20, 50, 100, 200]
   */
  recallKs?: number[];
  /**
   * Final depth: nDCG@topK and MRR@topK are computed on the reranked top topK. At most the largest recallK.
   * @default 10
   */
  topK?: number;
  /**
   * Evaluate only the first N judged queries.
   * @default all
   */
  maxQueries?: number;
  /**
   * Stage-2 latency is measured by really reranking each recallK's candidates for this many queries. Quality uses
   * every query: stage 1 runs for real at each recallK (and is timed for every query), and since cross-encoder scores
   * are per pair, one scoring of the largest recallK's candidates serves every recallK's ranking. A whole number ≥ 0.
   * @default 20
   */
  latencyQueries?: number;
  /**
   * The stage 2 that is timed on the latency queries, when the retriever's own may answer from a score cache (a
   * {@link ScoreCacheFile}: timing it would time cache reads). The same models and settings, without the cache; a
   * {@link CascadeCompressor} when stage 2 is one.
   * @default the retriever's compressor
   */
  timingCompressor?: RankingCompressor;
  /**
   * Compute oracle agreement (two-stage top-K = top-K of reranking the whole corpus) when the corpus has at most
   * this many documents (a whole number ≥ 0); 0 turns it off.
   * @default 0
   */
  oracleMaxCorpus?: number;
  /**
   * An exact search over the same documents (e.g. the same PGVectorStore table without its HNSW index, or a
   * FaissVectorStore): when given, each recallK also reports `annRecall`, how much of the exact top-recallK the
   * retriever's (approximate) stage 1 found. It must hold the documents with their id in `metadata[idField]`.
   * @default undefined (not measured)
   */
  exactStage1?: RecallSource;
  /**
   * With a {@link CascadeCompressor} as stage 2: the `keep` values of its first stage to sweep at the largest recallK,
   * each against the last stage alone reranking every candidate (quality, agreement and latency; see
   * {@link EvaluationReport.keepSweep}). Scores are per pair, so one scoring per stage and text serves every keep.
   * @default undefined (no sweep)
   */
  keeps?: number[];
  /**
   * Metadata field holding the dataset's document id in the retriever's documents. When stage 1 returns candidates
   * and none carries it, `evaluate` throws (every nDCG would be 0).
   * @default "docId"
   */
  idField?: string;
  /**
   * Evaluate stage 1 alone: the reranker is neither called nor loaded, and each recallK's ranking is stage 1's own
   * order, so `ndcg` and `mrr` are stage 1's (at topK) and stage-2 latency is 0. Use it to measure a stage 1 against
   * its published figures and to choose recallK by Recall@recallK and `judgedBeyond` before paying for a reranker.
   * Not with `keeps` or `oracleMaxCorpus` (both need the reranker).
   * @default false
   */
  stage1Only?: boolean;
  /** Called after each query. */
  onProgress?: (done: number, total: number) => void;
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
  /** The smallest keep whose nDCG@topK is within 0.005 of the best row (the full rerank included); "full" if none. */
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
  /** The smallest recallK whose nDCG@topK is within 0.005 of the best in the sweep. */
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
interface AtRecallK {
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
interface AtKeep {
  ranking: RunEntry[];
  rerankMs?: number;
}

/** Everything measured for one query; {@link aggregate} turns a list of these into the report. */
interface QueryObservation {
  queryId: string;
  judgments: Judgments;
  /** Stage-1 ranking at the largest recallK. */
  stage1: RunEntry[];
  perK: Map<number, AtRecallK>;
  perKeep?: Map<number | "full", AtKeep>;
}

interface Settings {
  recallKs: number[];
  topK: number;
  idField: string;
  latencyQueries: number;
  /** The compressor that is timed (see {@link EvaluateParams.timingCompressor}). */
  timer?: RankingCompressor;
  exactStage1?: RecallSource;
  keeps?: number[];
  stage1Only: boolean;
  /** Whether some stage-1 candidate so far carried `metadata[idField]` (until one does, each query checks). */
  idSeen: boolean;
}

/**
 * Sweeps recallK on a judged collection: for every recallK, nDCG@topK and MRR@topK after reranking, Recall@recallK
 * of stage 1 (the ceiling), and p50/p95 latency of each stage measured at that recallK; where the judged documents
 * land in stage 1; and the smallest recallK within 0.005 nDCG of the best. Rankings come from the retriever's own
 * stage 1 and its reranker's own ranking rule (dedupe, threshold), so each recallK's top-K is what a retriever with
 * that recallK returns. The retriever's stage 1 must hold the dataset's documents with their id in
 * `metadata[idField]`; stage 2 must score every candidate (a {@link CrossEncoderCompressor}).
 */
export async function evaluate(
  retriever: TwoStageRetriever,
  dataset: BeirDataset,
  params: EvaluateParams = {},
): Promise<EvaluationReport> {
  const started = performance.now();
  const settings: Settings = {
    recallKs: [...new Set(params.recallKs ?? [10, 20, 50, 100, 200])].sort((a, b) => a - b),
    topK: params.topK ?? 10,
    idField: params.idField ?? "docId",
    latencyQueries: params.latencyQueries ?? 20,
    timer: params.timingCompressor,
    exactStage1: params.exactStage1,
    keeps: params.keeps ? [...new Set(params.keeps)].sort((a, b) => a - b) : undefined,
    stage1Only: params.stage1Only ?? false,
    idSeen: false,
  };
  if (settings.recallKs.length === 0) {
    throw new InvalidArgumentError("recallKs must list at least one recallK.", { argument: "recallKs" });
  }
  settings.recallKs.forEach((k) => positiveInteger("recallKs entry", k));
  positiveInteger("topK", settings.topK);
  positiveInteger("maxQueries", params.maxQueries);
  nonNegativeInteger("latencyQueries", settings.latencyQueries, "0: no stage-2 timing");
  nonNegativeInteger("oracleMaxCorpus", params.oracleMaxCorpus, "0: no oracle");
  const largest = settings.recallKs[settings.recallKs.length - 1];
  if (settings.topK > largest) {
    throw new InvalidArgumentError(
      `topK (${settings.topK}) exceeds every recallK (the largest is ${largest}): nDCG@${settings.topK} would rank at ` +
        `most ${largest} candidates. Lower topK, or sweep a recallK of at least ${settings.topK}.`,
      { argument: "topK" },
    );
  }
  if (typeof settings.idField !== "string" || settings.idField === "") {
    throw new InvalidArgumentError(
      `idField must be a non-empty metadata key; got ${JSON.stringify(settings.idField)}.`,
      {
        argument: "idField",
      },
    );
  }
  if (settings.stage1Only && (settings.keeps !== undefined || (params.oracleMaxCorpus ?? 0) > 0)) {
    throw new InvalidArgumentError(
      `stage1Only evaluates stage 1 without the reranker, but ${settings.keeps !== undefined ? "keeps" : "oracleMaxCorpus"} ` +
        "needs the reranker. Drop one of them.",
      { argument: "stage1Only" },
    );
  }
  const reranker = settings.stage1Only ? undefined : retriever.compressor;
  if (reranker !== undefined && !isRankingCompressor(reranker)) {
    throw new InvalidArgumentError(
      "evaluate() needs a reranker that scores every candidate (a CrossEncoderCompressor) as stage 2.",
      { argument: "retriever.compressor" },
    );
  }
  if (settings.keeps !== undefined) {
    if (reranker === undefined || !isCascadeCompressor(reranker)) {
      throw new InvalidArgumentError(
        "keeps sweeps the first stage of a cascade: make the retriever's compressor a CascadeCompressor.",
        { argument: "keeps" },
      );
    }
    if (settings.keeps.length === 0) {
      throw new InvalidArgumentError("keeps must list at least one keep.", { argument: "keeps" });
    }
    settings.keeps.forEach((k) => positiveInteger("keeps entry", k));
  }
  const queries = dataset.queries.slice(0, params.maxQueries ?? dataset.queries.length);
  const oracleMax = params.oracleMaxCorpus ?? 0;
  const corpus =
    oracleMax > 0 && dataset.corpus.length <= oracleMax
      ? dataset.corpus.map(
          (doc) => new Document({ pageContent: documentText(doc), metadata: { [settings.idField]: doc.id } }),
        )
      : undefined;
  const observations: QueryObservation[] = [];
  for (const [qi, query] of queries.entries()) {
    const judgments = dataset.qrels.get(query.id) ?? new Map<string, number>();
    observations.push(
      await observeQuery(
        retriever,
        reranker,
        query.id,
        query.text,
        judgments,
        settings,
        qi < settings.latencyQueries,
        corpus,
      ),
    );
    params.onProgress?.(qi + 1, queries.length);
  }
  return {
    ...aggregate(observations, settings),
    dataset: dataset.name,
    unknownDocumentJudgments: dataset.unknownDocumentJudgments,
    wallMs: performance.now() - started,
  };
}

/**
 * Throws when stage-1 candidates come back and none carries `metadata[idField]`: every judgment would miss and every
 * nDCG be 0. Once a candidate does, the check stops (a store where only some documents lack the id is the caller's).
 */
function checkIdField(docs: Document[], idField: string, queryId: string, settings: Settings): void {
  const present = (doc: Document) => {
    const value = doc.metadata?.[idField] as unknown;
    return value !== undefined && value !== null && value !== "";
  };
  if (docs.some(present)) {
    settings.idSeen = true;
    return;
  }
  if (docs.length === 0) return;
  const keys = [...new Set(docs.flatMap((doc) => Object.keys(doc.metadata ?? {})))]
    .filter((key) => key !== "recallRank" && key !== "recallScore")
    .slice(0, 12);
  throw new InvalidArgumentError(
    `None of the ${docs.length} stage-1 candidates of query '${queryId}' carries metadata.${idField}, so no judgment ` +
      `could match and every nDCG would be 0. Their metadata keys: ${keys.length ? keys.join(", ") : "(none)"}. ` +
      `Store the dataset's document id in metadata.${idField}, or pass idField: the key that holds it.`,
    { argument: "idField" },
  );
}

/**
 * Runs stage 1 at every recallK (timed), scores the candidates once, and ranks each recallK's candidates. Without a
 * reranker (`stage1Only`), each recallK's ranking is stage 1's order and score.
 */
async function observeQuery(
  retriever: TwoStageRetriever,
  reranker: RankingCompressor | undefined,
  queryId: string,
  text: string,
  judgments: Judgments,
  settings: Settings,
  timeStage2: boolean,
  corpus: Document[] | undefined,
): Promise<QueryObservation> {
  const { recallKs, topK, idField } = settings;
  const idOf = (doc: Document) => String(doc.metadata[idField]);
  const candidatesAt = new Map<number, { docs: Document[]; recallMs: number }>();
  for (const k of recallKs) {
    const t0 = performance.now();
    const docs = await retriever.recall(text, k);
    candidatesAt.set(k, { docs, recallMs: performance.now() - t0 });
  }
  if (!settings.idSeen) checkIdField(candidatesAt.get(recallKs[recallKs.length - 1])!.docs, idField, queryId, settings);
  // Scores are per (query, text): score every distinct text once, then rank each recallK's list with them. A
  // cascade's cut depends on the list, so it ranks each list itself, from one memo of per-stage scores.
  const cascade = reranker !== undefined && isCascadeCompressor(reranker) ? reranker : undefined;
  const memo = cascade?.scoreMemo();
  const scoreOf = new Map<string, number>();
  const unscored = (docs: Document[]) => docs.filter((doc) => !scoreOf.has(doc.pageContent));
  const plain = cascade ? undefined : reranker;
  for (const { docs } of plain ? candidatesAt.values() : []) {
    const missing = unscored(docs);
    if (missing.length === 0) continue;
    const scores = await plain!.scoreDocuments(missing, text);
    missing.forEach((doc, i) => scoreOf.set(doc.pageContent, scores[i]));
  }
  const oracleTop = corpus && reranker ? await topScores(reranker, corpus, text, topK) : undefined;
  const exact = settings.exactStage1
    ? (await settings.exactStage1.recall(text, recallKs[recallKs.length - 1], retriever.filter)).map((c) =>
        idOf(c.document as Document),
      )
    : undefined;
  const perK = new Map<number, AtRecallK>();
  for (const k of recallKs) {
    const { docs, recallMs } = candidatesAt.get(k)!;
    const ranking = !reranker
      ? { order: docs.map((_, i) => i), scores: docs.map((doc) => doc.metadata.recallScore as number) }
      : cascade
        ? await cascade.rankCascade(docs, text, { memo, topN: topK })
        : reranker.rankScored(
            docs,
            docs.map((doc) => scoreOf.get(doc.pageContent)!),
          );
    const entry: AtRecallK = {
      stage1: docs.map(idOf),
      ranking: ranking.order.map((i) => ({ docId: idOf(docs[i]), score: ranking.scores[i] })),
      recallMs,
    };
    if (reranker && timeStage2 && docs.length > 0) {
      const t1 = performance.now();
      await (settings.timer ?? reranker).rankCandidates(docs, text);
      entry.rerankMs = performance.now() - t1;
    }
    if (exact) {
      const exactTop = exact.slice(0, k);
      const found = new Set(entry.stage1);
      entry.annRecall =
        exactTop.length === 0 ? 1 : exactTop.filter((id) => found.has(id)).length / Math.min(k, exactTop.length);
    }
    if (oracleTop) {
      // Equal up to ties: position by position, the same score as the whole-corpus rerank's top-K.
      const ours = entry.ranking.slice(0, topK).map((e) => e.score);
      entry.oracleSame = ours.length === oracleTop.length && ours.every((s, i) => Math.abs(s - oracleTop[i]) <= 1e-6);
    }
    perK.set(k, entry);
  }
  const deepest = candidatesAt.get(recallKs[recallKs.length - 1])!.docs;
  const perKeep =
    cascade && settings.keeps && deepest.length > 0
      ? await sweepKeeps(cascade, memo!, deepest, text, settings, timeStage2, idOf)
      : undefined;
  return {
    queryId,
    judgments,
    stage1: deepest.map((doc) => ({ docId: idOf(doc), score: doc.metadata.recallScore as number })),
    perK,
    perKeep,
  };
}

/** Ranks one query's candidates at every keep of the cascade's first stage and with its last stage alone. */
async function sweepKeeps(
  cascade: CascadeCompressor,
  memo: CascadeScoreMemo,
  docs: Document[],
  text: string,
  settings: Settings,
  timeStage2: boolean,
  idOf: (doc: Document) => string,
): Promise<Map<number | "full", AtKeep>> {
  const { topK } = settings;
  const out = new Map<number | "full", AtKeep>();
  const lastIndex = cascade.stages.length - 1;
  const last = cascade.stages[lastIndex].reranker;
  const lastMemo = memo[lastIndex];
  const missing = [
    ...new Map(docs.filter((d) => !lastMemo.has(d.pageContent)).map((d) => [d.pageContent, d])).values(),
  ];
  if (missing.length > 0) {
    const scores = await last.scoreDocuments(missing, text);
    missing.forEach((doc, i) => lastMemo.set(doc.pageContent, scores[i]));
  }
  const fullScores = docs.map((doc) => lastMemo.get(doc.pageContent)!);
  const full = last.rankScored(docs, fullScores);
  const fullEntry: AtKeep = { ranking: full.order.map((i) => ({ docId: idOf(docs[i]), score: fullScores[i] })) };
  const timer = settings.timer && isCascadeCompressor(settings.timer) ? settings.timer : cascade;
  if (timeStage2) {
    const t0 = performance.now();
    await timer.stages[lastIndex].reranker.rankCandidates(docs, text);
    fullEntry.rerankMs = performance.now() - t0;
  }
  out.set("full", fullEntry);
  for (const keep of settings.keeps!) {
    const ranking = await cascade.rankCascade(docs, text, { memo, keep, topN: topK });
    const entry: AtKeep = {
      ranking: ranking.order.map((i) => ({ docId: idOf(docs[i]), score: ranking.scores[i] })),
    };
    if (timeStage2) {
      const t0 = performance.now();
      await timer.rankCascade(docs, text, { keep, topN: topK, budget: false });
      entry.rerankMs = performance.now() - t0;
    }
    out.set(keep, entry);
  }
  return out;
}

/** The top-K scores of reranking the whole corpus. */
async function topScores(
  reranker: RankingCompressor,
  corpus: Document[],
  query: string,
  topK: number,
): Promise<number[]> {
  const scores = await reranker.scoreDocuments(corpus, query);
  return reranker
    .rankScored(corpus, scores)
    .order.slice(0, topK)
    .map((i) => scores[i]);
}

/** Metrics, latency quantiles, the stage-1 rank histogram and the recommendation, from the observations. */
function aggregate(
  observations: QueryObservation[],
  settings: Settings,
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
  const chosen = results.find((r) => r.ndcg >= bestNdcg - 0.005)!;
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
function aggregateKeeps(observations: QueryObservation[], settings: Settings): KeepSweep {
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
          const ours = a.entry.ranking.slice(0, topK).map((e) => e.score);
          const theirs = a.full.ranking.slice(0, topK).map((e) => e.score);
          return ours.length === theirs.length && ours.every((s, i) => Math.abs(s - theirs[i]) <= 1e-6) ? 1 : 0;
        }),
      ),
      rerankP50Ms: quantile(rerankMs, 0.5),
      rerankP95Ms: quantile(rerankMs, 0.95),
    };
  };
  const full = row("full");
  const results = settings.keeps!.map(row);
  const best = Math.max(full.ndcg, ...results.map((r) => r.ndcg));
  const chosen = results.find((r) => r.ndcg >= best - 0.005);
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
