import { InvalidArgumentError } from "../errors.js";
import { positiveInteger } from "../validation.js";
import { CrossEncoderCompressor } from "../rerank/cross_encoder_compressor.js";
import type { TwoStageRetriever } from "../two_stage_retriever.js";
import { type BeirDataset, documentText } from "./beir_dataset.js";
import { mean, mrrAt, ndcgAt, quantile, recallAt } from "./metrics.js";

/** Options of {@link evaluate}. */
export interface EvaluateParams {
  /**
   * The recallK values to sweep.
   * @default [10, 20, 50, 100, 200]
   */
  recallKs?: number[];
  /**
   * Final depth: nDCG@topK and MRR@topK are computed on the reranked top topK.
   * @default 10
   */
  topK?: number;
  /**
   * Evaluate only the first N judged queries.
   * @default all
   */
  maxQueries?: number;
  /**
   * Stage-2 latency is measured by really reranking each recallK prefix for this many queries (quality metrics use
   * every query; cross-encoder scores are per pair, so one rerank at the largest recallK serves every prefix).
   * @default 20
   */
  latencyQueries?: number;
  /**
   * Compute oracle agreement (two-stage top-K = top-K of reranking the whole corpus) when the corpus has at most
   * this many documents; 0 turns it off.
   * @default 0
   */
  oracleMaxCorpus?: number;
  /** Metadata field holding the dataset's document id in the retriever's documents. @default "docId" */
  idField?: string;
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
  recallP50Ms: number;
  recallP95Ms: number;
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

/** The outcome of {@link evaluate}. */
export interface EvaluationReport {
  dataset: string;
  queries: number;
  topK: number;
  /** nDCG@topK of stage 1 alone (no reranking), for reference. */
  stage1Ndcg: number;
  results: RecallKResult[];
  /** Where judged relevant documents land in stage 1: bucket label → count. */
  rankHistogram: { bucket: string; count: number }[];
  judgedTotal: number;
  /** The smallest recallK whose nDCG@topK is within 0.005 of the best in the sweep. */
  recommendation: { recallK: number; ndcg: number; bestNdcg: number; latencyP50Ms: number };
  unknownDocumentJudgments: number;
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

/** Reranked order of a prefix of candidates: by score, ties in stage-1 order. */
function rerankedOrder(scores: number[], count: number): number[] {
  return Array.from({ length: count }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Sweeps recallK on a judged collection: for every recallK, nDCG@topK and MRR@topK after reranking, Recall@recallK
 * of stage 1 (the ceiling), and p50/p95 latency of each stage; where the judged documents land in stage 1; and the
 * smallest recallK within 0.005 nDCG of the best. The retriever's store must hold the dataset's documents with
 * their id in `metadata[idField]`; stage 2 must be a {@link CrossEncoderCompressor}.
 */
export async function evaluate(
  retriever: TwoStageRetriever,
  dataset: BeirDataset,
  params: EvaluateParams = {},
): Promise<EvaluationReport> {
  const started = performance.now();
  const recallKs = [...new Set(params.recallKs ?? [10, 20, 50, 100, 200])].sort((a, b) => a - b);
  const topK = params.topK ?? 10;
  const idField = params.idField ?? "docId";
  const latencyQueries = params.latencyQueries ?? 20;
  if (recallKs.length === 0) throw new InvalidArgumentError("recallKs must list at least one recallK.");
  recallKs.forEach((k) => positiveInteger("recallKs entry", k));
  positiveInteger("topK", topK);
  positiveInteger("maxQueries", params.maxQueries);
  const reranker = retriever.compressor;
  if (!(reranker instanceof CrossEncoderCompressor)) {
    throw new InvalidArgumentError("evaluate() needs a CrossEncoderCompressor as stage 2, to score every candidate.");
  }
  const maxK = recallKs[recallKs.length - 1];
  const queries = dataset.queries.slice(0, params.maxQueries ?? dataset.queries.length);
  const oracle = (params.oracleMaxCorpus ?? 0) > 0 && dataset.corpus.length <= (params.oracleMaxCorpus ?? 0);
  const corpusTexts = oracle ? dataset.corpus.map(documentText) : [];

  const perK = new Map(
    recallKs.map((k) => [
      k,
      {
        ndcg: [] as number[],
        mrr: [] as number[],
        recall: [] as number[],
        rerankMs: [] as number[],
        oracle: [] as number[],
        beyond: 0,
      },
    ]),
  );
  const recallMs: number[] = [];
  const stage1Ndcg: number[] = [];
  const histogram = new Map<string, number>(BUCKETS.map(([label]) => [label, 0]));
  histogram.set("not retrieved", 0);
  let judgedTotal = 0;
  const stage1Runs = new Map<string, RunEntry[]>();
  const stage2Runs = new Map<number, Map<string, RunEntry[]>>(recallKs.map((k) => [k, new Map()]));

  for (const [qi, query] of queries.entries()) {
    const judgments = dataset.qrels.get(query.id) ?? new Map<string, number>();
    const t0 = performance.now();
    const candidates = await retriever.recall(query.text, maxK);
    recallMs.push(performance.now() - t0);
    const ids = candidates.map((d) => String(d.metadata[idField]));
    stage1Runs.set(
      query.id,
      candidates.map((d, i) => ({ docId: ids[i], score: Number(d.metadata.recallScore) })),
    );
    stage1Ndcg.push(ndcgAt(ids, judgments, topK));
    const texts = candidates.map((d) => d.pageContent);
    const scores = texts.length > 0 ? await reranker.score(query.text, texts) : [];

    for (const [docId] of judgments) {
      judgedTotal += 1;
      const rank = ids.indexOf(docId) + 1;
      const bucket =
        rank === 0 ? "not retrieved" : (BUCKETS.find(([, lo, hi]) => rank >= lo && rank <= hi)?.[0] ?? "not retrieved");
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
      for (const k of recallKs) if (rank === 0 || rank > k) perK.get(k)!.beyond += 1;
    }

    let oracleTop: number[] | undefined;
    if (oracle) {
      const all = await reranker.score(query.text, corpusTexts);
      oracleTop = rerankedOrder(all, all.length)
        .slice(0, topK)
        .map((i) => all[i]);
    }
    for (const k of recallKs) {
      const count = Math.min(k, ids.length);
      const order = rerankedOrder(scores, count);
      const ranking = order.map((i) => ids[i]);
      const entry = perK.get(k)!;
      entry.ndcg.push(ndcgAt(ranking, judgments, topK));
      entry.mrr.push(mrrAt(ranking, judgments, topK));
      entry.recall.push(recallAt(ids, judgments, k));
      stage2Runs.get(k)!.set(
        query.id,
        order.map((i) => ({ docId: ids[i], score: scores[i] })),
      );
      if (oracleTop) {
        // Equal up to ties: position by position, the same score as the whole-corpus rerank's top-K.
        const ours = order.slice(0, topK).map((i) => scores[i]);
        const same =
          ours.length === oracleTop.length && ours.every((score, i) => Math.abs(score - oracleTop![i]) <= 1e-6);
        entry.oracle.push(same ? 1 : 0);
      }
      if (qi < latencyQueries && count > 0) {
        const t1 = performance.now();
        await reranker.score(query.text, texts.slice(0, count));
        entry.rerankMs.push(performance.now() - t1);
      }
    }
    params.onProgress?.(qi + 1, queries.length);
  }

  const results: RecallKResult[] = recallKs.map((k) => {
    const entry = perK.get(k)!;
    return {
      recallK: k,
      ndcg: mean(entry.ndcg),
      mrr: mean(entry.mrr),
      recall: mean(entry.recall),
      recallP50Ms: quantile(recallMs, 0.5),
      recallP95Ms: quantile(recallMs, 0.95),
      rerankP50Ms: quantile(entry.rerankMs, 0.5),
      rerankP95Ms: quantile(entry.rerankMs, 0.95),
      oracleAgreement: oracle ? mean(entry.oracle) : undefined,
      judgedBeyond: entry.beyond,
    };
  });
  const bestNdcg = Math.max(...results.map((r) => r.ndcg));
  const chosen = results.find((r) => r.ndcg >= bestNdcg - 0.005)!;
  return {
    dataset: dataset.name,
    queries: queries.length,
    topK,
    stage1Ndcg: mean(stage1Ndcg),
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
    unknownDocumentJudgments: dataset.unknownDocumentJudgments,
    runs: { stage1: stage1Runs, stage2: stage2Runs },
    wallMs: performance.now() - started,
  };
}
