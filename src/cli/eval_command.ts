import { Document } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { documentText, loadBeirDataset } from "../eval/beir_dataset.js";
import { type EvaluationReport, evaluate } from "../eval/evaluate.js";
import { writeTrecRun } from "../eval/trec_run.js";
import { type Stage1Kind } from "../recall/build_stage1.js";
import type { RecallSource } from "../recall/recall_source.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import type { Stage1 } from "../recall/to_recall_source.js";
import { TwoStageRetriever } from "../two_stage_retriever.js";
import { type ParsedArgs, intListOption, intOption, nonNegativeIntOption, stringOption } from "./args.js";
import { ScoreCacheFile } from "../rerank/score_cache_file.js";
import { renderKeepSweep } from "./keep_sweep_table.js";
import { type ModelChoice, instantiate, prepareModels } from "./models.js";
import { ESTIMATE_PRINT_MS, type EvalWork, estimateEvalRuntime, renderEstimate } from "./eval_estimate.js";
import { indexModelChoice, loadEvalIndex } from "./eval_index.js";
import { buildCliStage1 } from "./cli_stage1.js";
import { plotTarget, writePlot } from "./plot_option.js";
import { announceModels, print } from "./output.js";
import { Progress } from "./progress.js";
import { renderTable } from "./table.js";

/** The recallK values `eval` sweeps by default. */
export const DEFAULT_EVAL_RECALL_KS = [10, 20, 50, 100, 200] as const;
/** The recallK values `eval --stage1-only` sweeps by default (no reranker: deep lists are cheap). */
export const DEFAULT_STAGE1_ONLY_RECALL_KS = [10, 20, 50, 100, 200, 500, 1000] as const;

/**
 * Renders a stage-1-only report: stage 1's nDCG@topK and MRR@topK, then per recallK its Recall@recallK, the judged
 * relevant documents ranked beyond it, and stage-1 latency.
 */
function renderStage1Report(report: EvaluationReport): string {
  const first = report.results[0];
  const histogram = report.rankHistogram.map((b) => `${b.bucket}: ${b.count}`).join(", ");
  return [
    `${report.dataset}: ${report.queries} queries; stage 1 only (no reranker): nDCG@${report.topK} ${report.stage1Ndcg.toFixed(4)}, ` +
      `MRR@${report.topK} ${first.mrr.toFixed(4)}`,
    renderTable(
      ["recallK", "Recall@recallK", "judged beyond", "stage1 p50/p95 ms"],
      report.results.map((r) => [
        r.recallK,
        r.recall.toFixed(4),
        r.judgedBeyond,
        `${r.recallP50Ms.toFixed(1)}/${r.recallP95Ms.toFixed(1)}`,
      ]),
    ),
    `Stage-1 rank of the ${report.judgedTotal} judged documents: ${histogram}`,
    report.unknownDocumentJudgments > 0
      ? `(${report.unknownDocumentJudgments} judgments name documents missing from the corpus; ignored)`
      : "",
    `Wall time: ${(report.wallMs / 1000).toFixed(1)} s.`,
  ]
    .filter(Boolean)
    .join("\n");
}

/** Renders an evaluation report as the sweep table, the stage-1 rank histogram and the recommendation. */
export function renderReport(report: EvaluationReport): string {
  if (report.stage1Only) return renderStage1Report(report);
  const withOracle = report.results.some((r) => r.oracleAgreement !== undefined);
  const withAnn = report.results.some((r) => r.annRecall !== undefined);
  const headers = [
    "recallK",
    `nDCG@${report.topK}`,
    `MRR@${report.topK}`,
    "Recall@recallK",
    ...(withAnn ? ["ANN recall"] : []),
    "stage1 p50/p95 ms",
    "stage2 p50/p95 ms",
    "judged beyond",
    ...(withOracle ? ["oracle agree"] : []),
  ];
  const rows = report.results.map((r) => [
    r.recallK,
    r.ndcg.toFixed(4),
    r.mrr.toFixed(4),
    r.recall.toFixed(4),
    ...(withAnn ? [r.annRecall === undefined ? "-" : r.annRecall.toFixed(4)] : []),
    `${r.recallP50Ms.toFixed(1)}/${r.recallP95Ms.toFixed(1)}`,
    `${r.rerankP50Ms.toFixed(0)}/${r.rerankP95Ms.toFixed(0)}`,
    r.judgedBeyond,
    ...(withOracle ? [r.oracleAgreement!.toFixed(3)] : []),
  ]);
  const histogram = report.rankHistogram.map((b) => `${b.bucket}: ${b.count}`).join(", ");
  const rec = report.recommendation;
  return [
    `${report.dataset}: ${report.queries} queries, topK ${report.topK}; stage 1 alone: nDCG@${report.topK} ${report.stage1Ndcg.toFixed(4)}`,
    renderTable(headers, rows),
    `Stage-1 rank of the ${report.judgedTotal} judged documents: ${histogram}`,
    report.unknownDocumentJudgments > 0
      ? `(${report.unknownDocumentJudgments} judgments name documents missing from the corpus; ignored)`
      : "",
    `Recommendation: recallK = ${rec.recallK} (nDCG@${report.topK} ${rec.ndcg.toFixed(4)}, within 0.005 of the best ${rec.bestNdcg.toFixed(4)}; ` +
      `p50 latency ${rec.latencyP50Ms.toFixed(0)} ms per query).`,
    edgeNote(report),
    report.keepSweep ? renderKeepSweep(report.keepSweep, report.topK) : "",
    `Wall time: ${(report.wallMs / 1000).toFixed(1)} s.`,
  ]
    .filter(Boolean)
    .join("\n");
}

/**
 * The recallK values to sweep next when the recommendation is the largest recallK tried (nDCG may still grow past
 * the edge of the sweep): the edge, 1.5× and 2.5× it. Undefined when the recommendation lies inside the sweep.
 */
export function nextSweep(report: EvaluationReport): number[] | undefined {
  if (report.stage1Only || report.results.length === 0) return undefined;
  const largest = Math.max(...report.results.map((r) => r.recallK));
  if (report.recommendation.recallK !== largest) return undefined;
  return [largest, Math.round(largest * 1.5), Math.round(largest * 2.5)];
}

/** The line that says the recommendation sits at the edge of the sweep, and which sweep to run next. */
function edgeNote(report: EvaluationReport): string {
  const next = nextSweep(report);
  if (!next) return "";
  return (
    `recallK = ${next[0]} is the largest value tried, so the sweep cannot show whether a deeper stage 1 helps more. ` +
    `Next: --recall-k ${next.join(",")} (the relevant documents beyond recallK: "judged beyond" above).`
  );
}

/** Stage 1 that `eval` runs over the dataset's documents. */
export interface EvalStage1 {
  source: Stage1;
  /** An exact search over the same documents: `evaluate` then reports the stage-1 `annRecall`. */
  exactStage1?: RecallSource;
  /** Fields added to the `--json` output (e.g. the table). */
  details?: Record<string, unknown>;
  /** Frees what was built (e.g. drops a temporary table); called when eval ends, failed or not. */
  close?(): Promise<void>;
}

/** How `eval` builds stage 1: `kind` forces a stage-1 kind; `build` makes it over the dataset's documents. */
export interface EvalStage1Builder {
  kind?: Stage1Kind;
  build(
    kind: Stage1Kind,
    docs: Document[],
    embeddings: TransformersEmbeddings,
    fusion: { denseWeight?: number },
  ): Promise<EvalStage1>;
}

/** The default: FAISS, BM25 or both in memory, as `--stage1` says. */
const IN_MEMORY_STAGE1: EvalStage1Builder = {
  build: async (kind, docs, embeddings, fusion) => ({
    source: (await buildCliStage1(kind, docs, embeddings, false, fusion)).source,
  }),
};

/** The dataset folder of `eval`: its one positional argument, or `--dataset` (the same folder if both are given). */
export function evalDatasetArgument(args: ParsedArgs): string {
  const flagged = stringOption(args, "dataset");
  const [positional, ...more] = args.positionals;
  if (more.length > 0) {
    throw new InvalidArgumentError(
      `eval takes one dataset folder; got '${args.positionals.join(" ")}'. Lists are comma-separated: --recall-k 10,20,50.`,
    );
  }
  if (flagged !== undefined && positional !== undefined && flagged !== positional) {
    throw new InvalidArgumentError(
      `eval got two datasets: '${positional}' and --dataset '${flagged}'. Pass one: two-stage eval <dir>.`,
    );
  }
  const dir = flagged ?? positional;
  if (!dir) {
    throw new InvalidArgumentError(
      "eval needs a dataset: two-stage eval <dir> (or --dataset <dir>), a BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv.",
    );
  }
  return dir;
}

/**
 * `--index <dir>`: stage 1 read from an index folder built over the dataset's corpus (no embedding of the corpus),
 * with the models its manifest records. Undefined without `--index`.
 */
function evalIndexOption(
  args: ParsedArgs,
  stage1: EvalStage1Builder,
): { builder: EvalStage1Builder; choice: Partial<ModelChoice> } | undefined {
  const dir = stringOption(args, "index");
  if (dir === undefined) return undefined;
  if (stage1 !== IN_MEMORY_STAGE1) {
    throw new InvalidArgumentError(
      "--index reuses an index folder; --store loads the dataset into a table. Pass one of them.",
      { argument: "--index" },
    );
  }
  const choice = indexModelChoice(dir);
  const flaggedKind = stringOption(args, "stage1");
  if (flaggedKind !== undefined && flaggedKind !== choice.stage1) {
    throw new InvalidArgumentError(
      `--index ${dir} holds a ${choice.stage1} stage 1, not ${flaggedKind}. Drop --stage1, or build the index with --stage1 ${flaggedKind}.`,
      { argument: "--stage1" },
    );
  }
  const flaggedModel = stringOption(args, "embedding-model");
  if (flaggedModel !== undefined && choice.embeddingModel !== undefined && flaggedModel !== choice.embeddingModel) {
    throw new InvalidArgumentError(
      `--index ${dir} was embedded with ${choice.embeddingModel}, not ${flaggedModel}: queries embedded by another ` +
        "model would be compared with its vectors. Drop --embedding-model, or build the index with that model.",
      { argument: "--embedding-model" },
    );
  }
  return {
    choice,
    builder: {
      kind: choice.stage1,
      build: async (_kind, docs, embeddings, fusion) => {
        const loaded = await loadEvalIndex(dir, docs, embeddings, fusion.denseWeight ?? choice.denseWeight);
        return { source: loaded.source, details: loaded.details, close: async () => loaded.dispose() };
      },
    },
  };
}

/** `two-stage eval <dir> [--index <dir>] [--recall-k 10,20,50,100,200] [--top-k 10] [--max-queries N] [--run-out prefix]` */
export async function evalCommand(args: ParsedArgs, stage1: EvalStage1Builder = IN_MEMORY_STAGE1): Promise<void> {
  const datasetDir = evalDatasetArgument(args);
  const reused = evalIndexOption(args, stage1);
  if (reused) stage1 = reused.builder;
  const json = args.options.has("json");
  const plot = plotTarget(args);
  const stage1Only = args.options.has("stage1-only");
  const recallKs = intListOption(
    args,
    "recall-k",
    stage1Only ? [...DEFAULT_STAGE1_ONLY_RECALL_KS] : [...DEFAULT_EVAL_RECALL_KS],
  );
  const topK = intOption(args, "top-k", 10);
  const maxQueries = args.options.has("max-queries") ? intOption(args, "max-queries", 1) : undefined;
  const oracleMaxCorpus = args.options.has("oracle-max-corpus") ? intOption(args, "oracle-max-corpus", 1) : 0;
  const latencyQueries = nonNegativeIntOption(args, "latency-queries", 20);
  const started = performance.now();
  const dataset = loadBeirDataset(datasetDir);
  // Documents with no text cannot be embedded for cosine search (and cannot answer anything): left out, counted.
  const indexable = dataset.corpus.filter((doc) => documentText(doc).trim() !== "");
  const emptyDocuments = dataset.corpus.length - indexable.length;
  const texts = indexable.map(documentText);
  const scoreCachePath = stringOption(args, "score-cache");
  const scoreCache = scoreCachePath ? await ScoreCacheFile.open(scoreCachePath) : undefined;
  const { choice, embeddings, reranker, fallbackReason } = await prepareModels(
    args,
    texts,
    reused ? reused.choice : stage1.kind ? { stage1: stage1.kind } : {},
    { scoreCache },
  );
  if (!json) process.stderr.write(`${announceModels(choice, fallbackReason)}\n`);
  const docs = indexable.map(
    (doc, i) => new Document({ pageContent: texts[i], id: doc.id, metadata: { docId: doc.id } }),
  );
  // Scores read from --score-cache would time cache reads: stage 2 is timed on a twin without the cache (it shares
  // the loaded model sessions).
  const timing = scoreCache && latencyQueries > 0 && !choice.stage1Only ? instantiate(choice).reranker : undefined;
  const queryCount = Math.min(dataset.queries.length, maxQueries ?? dataset.queries.length);
  const work: EvalWork = {
    documents: docs,
    queries: queryCount,
    recallKs,
    latencyQueries: stage1Only ? 0 : latencyQueries,
    embedCorpus: !reused && choice.stage1 !== "bm25",
    embedQueries: choice.stage1 !== "bm25",
    rerank: !stage1Only,
  };
  // Timed without the score cache: cached scores would time cache reads, and the sample's scores must not enter it.
  const untimed = scoreCache && !timing && work.rerank ? instantiate(choice).reranker : undefined;
  const estimate =
    docs.length > 0 && dataset.queries.length > 0
      ? await estimateEvalRuntime(work, embeddings, timing ?? untimed ?? reranker, dataset.queries[0].text).finally(
          () => untimed?.dispose(),
        )
      : undefined;
  if (!json && estimate && estimate.totalMs >= ESTIMATE_PRINT_MS) {
    process.stderr.write(`${renderEstimate(estimate, work)}\n`);
  }
  const indexStarted = performance.now();
  let built: EvalStage1 | undefined;
  let report: EvaluationReport;
  let indexMs: number;
  try {
    built = await stage1.build(choice.stage1, docs, embeddings, { denseWeight: choice.denseWeight });
    indexMs = performance.now() - indexStarted;
    const retriever = new TwoStageRetriever({
      stage1: built.source,
      compressor: reranker,
      recallK: Math.max(...recallKs),
      topK,
    });
    const total = queryCount;
    const progress = new Progress("evaluating", total);
    report = await evaluate(retriever, dataset, {
      recallKs,
      topK,
      maxQueries: total,
      oracleMaxCorpus,
      exactStage1: built.exactStage1,
      latencyQueries,
      keeps: choice.thenModel !== undefined ? (choice.keeps ?? [10, 20, 50]) : undefined,
      stage1Only,
      timingCompressor: timing,
      onProgress: () => progress.tick(),
    });
  } catch (error) {
    scoreCache?.flush();
    await Promise.all([built?.close?.(), embeddings.dispose(), reranker.dispose(), timing?.dispose()]);
    throw error;
  }
  scoreCache?.flush();
  await built.close?.();
  const runOut = stringOption(args, "run-out");
  const runFiles: string[] = [];
  if (runOut) {
    runFiles.push(`${runOut}.stage1.run`);
    writeTrecRun(runFiles[0], report.runs.stage1, "two-stage-stage1");
    for (const [k, run] of report.runs.stage2) {
      const file = `${runOut}.stage2.recall${k}.run`;
      writeTrecRun(file, run, `two-stage-rerank-recall${k}`);
      runFiles.push(file);
    }
  }
  if (plot) writePlot(plot, report);
  await Promise.all([embeddings.dispose(), reranker.dispose(), timing?.dispose()]);
  const { runs: _runs, ...serialisable } = report;
  const wall = performance.now() - started;
  print(
    json,
    {
      ...serialisable,
      stage1: choice.stage1,
      ...built.details,
      models: choice,
      fallbackReason,
      emptyDocuments,
      ...(estimate ? { estimate } : {}),
      ...(nextSweep(report) ? { nextSweep: nextSweep(report) } : {}),
      indexMs,
      totalMs: wall,
      runFiles,
      ...(plot ? { plot } : {}),
      ...(scoreCache
        ? {
            scoreCache: {
              file: scoreCache.file,
              loaded: scoreCache.loaded,
              hits: scoreCache.hits,
              size: scoreCache.size,
            },
          }
        : {}),
    },
    `${renderReport(report)}${emptyDocuments ? `\n${emptyDocuments} empty documents were left out of the index.` : ""}\nIndexing ${(indexMs / 1000).toFixed(1)} s; total ${(wall / 1000).toFixed(1)} s.${scoreCache ? `\nScore cache ${scoreCache.file}: ${scoreCache.hits} scores read back, ${scoreCache.size - scoreCache.loaded} new (${scoreCache.size} kept).` : ""}${runFiles.length ? `\nRun files: ${runFiles.join(", ")}` : ""}${plot ? `\nChart: ${plot}` : ""}`,
  );
}
