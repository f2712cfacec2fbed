import { Document } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { nonNegativeInteger, positiveInteger } from "../validation.js";
import { type CascadeCompressor, type CascadeScoreMemo, isCascadeCompressor } from "../rerank/cascade_compressor.js";
import { type RankingCompressor, isRankingCompressor } from "../rerank/stage2.js";
import type { RecallSource } from "../recall/recall_source.js";
import type { TwoStageRetriever } from "../two_stage_retriever.js";
import { type BeirDataset, documentText } from "./beir_dataset.js";
import { type EvaluationReportWithHtml, withEvaluationHtml } from "./evaluation_html.js";
import type { Judgments } from "./metrics.js";
import { type AtKeep, type AtRecallK, type QueryObservation, aggregate, sameTopK } from "./report.js";

export type { EvaluationReport, KeepResult, KeepSweep, RecallKResult, RunEntry } from "./report.js";

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
): Promise<EvaluationReportWithHtml> {
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
  return withEvaluationHtml({
    ...aggregate(observations, settings),
    dataset: dataset.name,
    unknownDocumentJudgments: dataset.unknownDocumentJudgments,
    wallMs: performance.now() - started,
  });
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
  const plain = cascade ? undefined : reranker;
  for (const { docs } of plain ? candidatesAt.values() : []) await scoreMissingTexts(plain!, docs, text, scoreOf);
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
      entry.oracleSame = sameTopK(entry.ranking, oracleTop, topK);
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
  await scoreMissingTexts(last, docs, text, lastMemo);
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

/**
 * Scores are per (query, text): scores, once each, the distinct texts of `docs` that `memo` lacks, into `memo`; every
 * recallK's list (and every keep) is then ranked from the memo.
 */
async function scoreMissingTexts(
  reranker: RankingCompressor,
  docs: readonly Document[],
  query: string,
  memo: Map<string, number>,
): Promise<void> {
  const missing = [...new Map(docs.filter((d) => !memo.has(d.pageContent)).map((d) => [d.pageContent, d])).values()];
  if (missing.length === 0) return;
  const scores = await reranker.scoreDocuments(missing, query);
  missing.forEach((doc, i) => memo.set(doc.pageContent, scores[i]));
}

/** The top-K scores of reranking the whole corpus. */
async function topScores(
  reranker: RankingCompressor,
  corpus: Document[],
  query: string,
  topK: number,
): Promise<{ score: number }[]> {
  const scores = await reranker.scoreDocuments(corpus, query);
  return reranker
    .rankScored(corpus, scores)
    .order.slice(0, topK)
    .map((i) => ({ score: scores[i] }));
}
