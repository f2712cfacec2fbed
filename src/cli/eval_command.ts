import fs from "node:fs";
import path from "node:path";

import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { InvalidArgumentError } from "../errors.js";
import { documentText, loadBeirDataset } from "../eval/beir_dataset.js";
import { type EvaluationReport, evaluate } from "../eval/evaluate.js";
import { writeTrecRun } from "../eval/trec_run.js";
import { Bm25Index } from "../recall/bm25/bm25_index.js";
import { type Stage1Kind, stage1Source } from "../recall/build_stage1.js";
import { FaissVectorStore } from "../recall/faiss/faiss_vector_store.js";
import type { RecallSource } from "../recall/recall_source.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { checkSaveTarget } from "../recall/index_folder/atomic_directory.js";
import { LOCK_FILE, holdFolder } from "../recall/index_folder/folder_lock.js";
import { MANIFEST_FILE, readIndexManifest } from "../recall/index_folder/index_manifest.js";
import { type Stage1Parts, loadStage1, partsKind, saveStage1 } from "../recall/stage1_folder.js";
import type { Stage1 } from "../recall/to_recall_source.js";
import { CascadeCompressor } from "../rerank/cascade_compressor.js";
import { DEFAULT_RECALL_K, DEFAULT_TOP_K } from "../defaults.js";
import {
  RETRIEVER_FIELD,
  type SavedRetrieverSettings,
  rerankerFromSettings,
  retrieverSettings,
} from "../retriever_settings.js";
import { type Explanation, TwoStageRetriever } from "../two_stage_retriever.js";
import {
  type ParsedArgs,
  intListOption,
  intOption,
  nonNegativeIntOption,
  optionalIntOption,
  stringOption,
} from "./args.js";
import { describeSkippedInputs, readInputs } from "./input_documents.js";
import { renderKeepSweep } from "./keep_sweep_table.js";
import { type ModelChoice, describeModels, instantiate, modelChoice, prepareModels } from "./models.js";
import { Progress } from "./progress.js";
import { renderTable, snippet } from "./table.js";

/** What `index` records beside the vectors, so `query` uses the same embedding model. */
interface IndexManifest {
  version: 1;
  /** Absent for a BM25 stage 1. */
  embeddingModel?: string;
  rerankerModel: string;
  lexical: boolean;
  documents: number;
  createdAt: string;
  /** The retriever's settings, as the library's `save` records them (the reranker or cascade included). */
  retriever?: SavedRetrieverSettings;
}

export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

/** Embeds documents in batches with a progress bar; one vector per document, in order. */
export async function embedVectors(
  embeddings: EmbeddingsInterface,
  docs: DocumentInterface[],
  quiet: boolean,
): Promise<number[][]> {
  const progress = new Progress("embedding", docs.length, quiet);
  const batch = 64;
  const vectors: number[][] = [];
  for (let start = 0; start < docs.length; start += batch) {
    const slice = docs.slice(start, start + batch);
    vectors.push(...(await embeddings.embedDocuments(slice.map((d) => d.pageContent))));
    progress.tick(slice.length);
  }
  return vectors;
}

/** Embeds documents in batches with a progress bar and adds them to the store in one bulk call. */
export async function embedInto(
  store: FaissVectorStore,
  embeddings: EmbeddingsInterface,
  docs: DocumentInterface[],
  quiet: boolean,
): Promise<void> {
  const vectors = await embedVectors(embeddings, docs, quiet);
  await store.addVectors(vectors, docs as DocumentInterface[], { ids: docs.map((d) => String(d.metadata.docId)) });
}

/** The line that says which stage 1 and models run, and why test models stand in when they do. */
export function announceModels(choice: ModelChoice, fallbackReason?: string): string {
  const fallback = fallbackReason
    ? `Hub models unavailable (${fallbackReason}); falling back to the project's LEXICAL TEST MODELS for what needs a model${choice.stage1 === "bm25" ? ", with BM25 (real recall, no model) as stage 1" : ""}.\n`
    : "";
  return `${fallback}${describeModels(choice)}`;
}

/** Builds the stage-1 parts a command asked for over `docs` (ids from `metadata.docId`), with a progress bar for embedding. */
export async function buildCliParts(
  kind: Stage1Kind,
  docs: Document[],
  embeddings: TransformersEmbeddings,
  quiet = false,
): Promise<Stage1Parts> {
  const ids = docs.map((d) => String(d.metadata.docId));
  const parts: Stage1Parts = {};
  if (kind !== "dense") parts.bm25 = await Bm25Index.fromDocuments(docs, {}, { ids });
  if (kind !== "bm25") {
    parts.store = new FaissVectorStore(embeddings);
    await embedInto(parts.store, embeddings, docs, quiet);
  }
  return parts;
}

/** {@link buildCliParts} as one stage-1 source. */
export async function buildCliStage1(
  kind: Stage1Kind,
  docs: Document[],
  embeddings: TransformersEmbeddings,
  quiet = false,
): Promise<RecallSource> {
  return stage1Source(await buildCliParts(kind, docs, embeddings, quiet));
}

/** `--chunk-size` and `--chunk-overlap` of `index`, checked. */
export function chunkOptions(args: ParsedArgs): { chunkSize: number; chunkOverlap: number } {
  const chunkSize = intOption(args, "chunk-size", 1000);
  const chunkOverlap = nonNegativeIntOption(args, "chunk-overlap", 100);
  if (chunkOverlap >= chunkSize) {
    throw new InvalidArgumentError(
      `--chunk-overlap (${chunkOverlap}) must be smaller than --chunk-size (${chunkSize}); e.g. --chunk-overlap ${Math.floor(chunkSize / 10)}.`,
    );
  }
  return { chunkSize, chunkOverlap };
}

/** `two-stage index <inputs…> --out <dir> [--append | --rebuild] [--stage1 dense|bm25|hybrid]` */
export async function indexCommand(args: ParsedArgs): Promise<void> {
  const out = stringOption(args, "out");
  if (!out) throw new InvalidArgumentError("index needs --out <dir>: where to write the index.");
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  const json = args.options.has("json");
  const append = args.options.has("append");
  const rebuild = args.options.has("rebuild");
  if (append && rebuild) {
    throw new InvalidArgumentError("Pass --append (add to the index) or --rebuild (replace it), not both.");
  }
  const { chunkSize, chunkOverlap } = chunkOptions(args);
  // Refuse a target that is not ours before any work (save checks again).
  checkSaveTarget(out, { markerSets: [["faiss.index", "docstore.json"], [MANIFEST_FILE]], kind: "index" });
  // One writer for the whole command: another index run on this folder between our load and our save would be lost.
  const target = path.resolve(out);
  const created = !fs.existsSync(target);
  const lock = await holdFolder(target, { purpose: "two-stage index" });
  let finished = false;
  try {
    await indexLocked(args, out, { json, append, rebuild, chunkSize, chunkOverlap });
    finished = true;
  } finally {
    lock.release();
    // A first run that failed leaves nothing behind: the folder it created holds only the lock file.
    if (!finished && created && fs.readdirSync(target).every((name) => name === LOCK_FILE)) {
      fs.rmSync(target, { recursive: true, force: true });
    }
  }
}

async function indexLocked(
  args: ParsedArgs,
  out: string,
  options: { json: boolean; append: boolean; rebuild: boolean; chunkSize: number; chunkOverlap: number },
): Promise<void> {
  const { json, append, rebuild, chunkSize, chunkOverlap } = options;
  const existing = readIndexManifest(path.resolve(out));
  const exists = existing !== undefined || fs.existsSync(path.join(out, "faiss.index"));
  if (exists && !append && !rebuild) {
    throw new InvalidArgumentError(
      `${out} already holds an index. Pass --append to add to it or --rebuild to replace it.`,
    );
  }
  if (append && !exists) throw new InvalidArgumentError(`--append: ${out} holds no index to add to.`);
  const started = performance.now();
  const { documents: docs, skipped } = await readInputs(args.positionals, chunkSize, chunkOverlap, {
    followSymlinks: args.options.has("follow-symlinks"),
  });
  const texts = docs.map((d) => d.pageContent);
  let parts: Stage1Parts;
  let choice: ModelChoice & { stage1: Stage1Kind };
  let retrieverField: SavedRetrieverSettings | undefined;
  if (append) {
    retrieverField = existing?.[RETRIEVER_FIELD] as SavedRetrieverSettings | undefined;
    const recorded = existing as Partial<IndexManifest> | undefined;
    choice = { ...modelChoice(args, recorded), stage1: (existing?.stage1 as Stage1Kind | undefined) ?? "dense" };
    const flagged = stringOption(args, "embedding-model");
    const loaded = await loadStage1(out, {
      embeddings: flagged ? new TransformersEmbeddings({ model: flagged, offline: choice.offline }) : undefined,
    });
    parts = loaded.parts;
    if (!json) process.stderr.write(`${describeModels(choice)}\n`);
    const ids = docs.map((d) => String(d.metadata.docId));
    await parts.bm25?.addDocuments(docs, { ids });
    if (parts.store) await embedInto(parts.store, parts.store.embeddings, docs, false);
    await loaded.createdEmbeddings?.dispose();
  } else {
    const prepared = await prepareModels(args, texts);
    choice = prepared.choice;
    if (!json) process.stderr.write(`${announceModels(choice, prepared.fallbackReason)}\n`);
    parts = await buildCliParts(choice.stage1, docs, prepared.embeddings);
    // The one manifest writer of the library: what `TwoStageRetriever.load` (and `query`) rebuild, cascade included.
    retrieverField = retrieverSettings({
      recallK: DEFAULT_RECALL_K,
      topK: DEFAULT_TOP_K,
      onRerankError: "throw",
      compressor: prepared.reranker,
    });
    await Promise.all([prepared.embeddings.dispose(), prepared.reranker.dispose()]);
  }
  const size = parts.store?.size ?? parts.bm25?.size ?? 0;
  const manifest: IndexManifest = {
    version: 1,
    ...(parts.store ? { embeddingModel: choice.embeddingModel } : {}),
    rerankerModel: choice.rerankerModel,
    lexical: choice.lexical,
    documents: size,
    createdAt: new Date().toISOString(),
    ...(retrieverField ? { [RETRIEVER_FIELD]: retrieverField } : {}),
  };
  await saveStage1(out, parts, { ...manifest });
  const summary = {
    out,
    added: docs.length,
    stage1: partsKind(parts),
    dim: parts.store?.dim,
    ms: Math.round(performance.now() - started),
    ...manifest,
    skipped,
  };
  print(
    json,
    summary,
    `Indexed ${docs.length} chunks into ${out} (${size} in all; stage 1: ${summary.stage1}${parts.store ? `, dimension ${parts.store.dim}` : ""}) in ${(summary.ms / 1000).toFixed(1)} s.` +
      (skipped.length ? `\n${describeSkippedInputs(skipped)}` : ""),
  );
}

/** Renders what each stage did for one query: the returned documents, in order, with both ranks and scores. */
export function renderExplanation(explanation: Explanation, scoreKind: string): string {
  const rows = explanation.documents.map((doc, i) => {
    const c = explanation.candidates[(doc.metadata.recallRank as number) - 1];
    const { source, docId } = c.document.metadata;
    return [
      i + 1,
      // With a cascade, every stage's rank: stage 1 → cascade stage 1 → … → final.
      [c.recallRank, ...(c.stages?.slice(0, -1).map((stage) => stage.rank) ?? []), c.rerankRank ?? "-"].join(" → "),
      c.recallScore.toFixed(3),
      c.relevanceScore === undefined ? "-" : c.relevanceScore.toFixed(3),
      snippet(c.document.pageContent, 60),
      String(docId ?? source ?? ""),
    ];
  });
  const { recallMs, rerankMs } = explanation.timings;
  return [
    `Q: ${explanation.query}`,
    renderTable(["rank", "stage 1 → 2", scoreKind, "relevance", "text", "source"], rows),
    `stage 1: ${recallMs.toFixed(1)} ms for ${explanation.candidates.length} candidates; stage 2: ${rerankMs.toFixed(1)} ms`,
  ].join("\n");
}

export function explanationJson(explanation: Explanation): unknown {
  return {
    query: explanation.query,
    timings: explanation.timings,
    candidates: explanation.candidates.map((c) => ({
      recallRank: c.recallRank,
      recallScore: c.recallScore,
      rerankRank: c.rerankRank,
      relevanceScore: c.relevanceScore,
      dropped: c.dropped,
      stages: c.stages,
      returned: c.returned,
      docId: c.document.metadata.docId,
      text: c.document.pageContent,
    })),
  };
}

/**
 * Loads an index folder written by `index` (or a FaissStore / FaissVectorStore folder) as a retriever, as its manifest
 * describes it: the stage-1 kind, the embedding model and profile, the reranker. Flags override the models.
 */
export async function openIndex(
  dir: string,
  args: ParsedArgs,
): Promise<{ retriever: TwoStageRetriever; choice: ModelChoice; loadMs: number }> {
  const manifest = readIndexManifest(path.resolve(dir)) as
    (Partial<IndexManifest> & { stage1?: Stage1Kind }) | undefined;
  if (!manifest && !fs.existsSync(path.join(dir, "faiss.index"))) {
    throw new InvalidArgumentError(
      `${dir} is not an index folder (no two-stage.json or faiss.index). Create one with: two-stage index <files> --out ${dir}`,
    );
  }
  const flagged = stringOption(args, "embedding-model");
  if (manifest?.stage1 !== "bm25" && !manifest?.embeddingModel && !flagged) {
    throw new InvalidArgumentError(
      `${dir} has no two-stage.json naming the embedding model it was built with (a folder written by FaissStore or ` +
        "by hand). Pass the same model with --embedding-model <id|dir>; querying with another model returns noise.",
    );
  }
  let choice = modelChoice(args, manifest ?? {});
  // The reranker the index recorded (a cascade included), unless reranker flags choose another.
  const saved = manifest?.retriever?.reranker;
  const flaggedReranker = ["reranker-model", "then", "keep", "rerank-budget-ms"].some((f) => args.options.has(f));
  const restored = saved && !flaggedReranker ? rerankerFromSettings(saved, { offline: choice.offline }) : undefined;
  if (restored instanceof CascadeCompressor) {
    const [first, ...rest] = restored.stages;
    choice = {
      ...choice,
      rerankerModel: first.reranker.model,
      thenModel: rest.at(-1)?.reranker.model,
      keeps: [first.keep],
      rerankBudgetMs: restored.rerankBudgetMs,
    };
  } else if (restored) {
    choice = { ...choice, rerankerModel: restored.model };
  }
  const reranker = restored ?? instantiate(choice).reranker;
  const started = performance.now();
  const retriever = await TwoStageRetriever.load(dir, {
    embeddings: flagged ? new TransformersEmbeddings({ model: flagged, offline: choice.offline }) : undefined,
    compressor: reranker,
    stage1Kind: choice.stage1,
    recallK: optionalIntOption(args, "recall-k"),
    topK: optionalIntOption(args, "top-k"),
  });
  // Load the reranker now (the embeddings were loaded by the dimension check), so the stage timings of the query
  // measure the stages, not the loading.
  await reranker.compressDocuments([new Document({ pageContent: "warm-up" })], "warm-up");
  return {
    retriever,
    choice: { ...choice, stage1: retriever.stage1Kind ?? choice.stage1 },
    loadMs: performance.now() - started,
  };
}

/** `two-stage query <index> "question" [--recall-k N] [--top-k N]` */
export async function queryCommand(args: ParsedArgs): Promise<void> {
  const [dir, ...words] = args.positionals;
  const question = words.join(" ").trim();
  if (!dir || !question)
    throw new InvalidArgumentError('query needs an index folder and a question: two-stage query <index> "question"');
  const json = args.options.has("json");
  const { retriever, choice, loadMs } = await openIndex(dir, args);
  process.stderr.write(`${describeModels(choice)}\n`);
  const explanation = await retriever.explain(question);
  print(
    json,
    { ...(explanationJson(explanation) as object), loadMs },
    `${renderExplanation(explanation, retriever.source.scoreKind)}\nmodels and index loaded in ${loadMs.toFixed(0)} ms (not counted in the stage timings)`,
  );
}

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
    report.keepSweep ? renderKeepSweep(report.keepSweep, report.topK) : "",
    `Wall time: ${(report.wallMs / 1000).toFixed(1)} s.`,
  ]
    .filter(Boolean)
    .join("\n");
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
  build(kind: Stage1Kind, docs: Document[], embeddings: TransformersEmbeddings): Promise<EvalStage1>;
}

/** The default: FAISS, BM25 or both in memory, as `--stage1` says. */
const IN_MEMORY_STAGE1: EvalStage1Builder = {
  build: async (kind, docs, embeddings) => ({ source: await buildCliStage1(kind, docs, embeddings) }),
};

/** `two-stage eval --dataset <dir> [--recall-k 10,20,50,100,200] [--top-k 10] [--max-queries N] [--run-out prefix]` */
export async function evalCommand(args: ParsedArgs, stage1: EvalStage1Builder = IN_MEMORY_STAGE1): Promise<void> {
  const datasetDir = stringOption(args, "dataset");
  if (!datasetDir)
    throw new InvalidArgumentError(
      "eval needs --dataset <dir> (a BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv).",
    );
  if (args.positionals.length > 0) {
    throw new InvalidArgumentError(
      `eval takes no positional arguments; got '${args.positionals.join(" ")}'. Lists are comma-separated: --recall-k 10,20,50.`,
    );
  }
  const json = args.options.has("json");
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
  const { choice, embeddings, reranker, fallbackReason } = await prepareModels(
    args,
    texts,
    stage1.kind ? { stage1: stage1.kind } : {},
  );
  if (!json) process.stderr.write(`${announceModels(choice, fallbackReason)}\n`);
  const docs = indexable.map(
    (doc, i) => new Document({ pageContent: texts[i], id: doc.id, metadata: { docId: doc.id } }),
  );
  const indexStarted = performance.now();
  let built: EvalStage1 | undefined;
  let report: EvaluationReport;
  let indexMs: number;
  try {
    built = await stage1.build(choice.stage1, docs, embeddings);
    indexMs = performance.now() - indexStarted;
    const retriever = new TwoStageRetriever({
      stage1: built.source,
      compressor: reranker,
      recallK: Math.max(...recallKs),
      topK,
    });
    const total = Math.min(dataset.queries.length, maxQueries ?? dataset.queries.length);
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
      onProgress: () => progress.tick(),
    });
  } catch (error) {
    await Promise.all([built?.close?.(), embeddings.dispose(), reranker.dispose()]);
    throw error;
  }
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
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
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
      indexMs,
      totalMs: wall,
      runFiles,
    },
    `${renderReport(report)}${emptyDocuments ? `\n${emptyDocuments} empty documents were left out of the index.` : ""}\nIndexing ${(indexMs / 1000).toFixed(1)} s; total ${(wall / 1000).toFixed(1)} s.${runFiles.length ? `\nRun files: ${runFiles.join(", ")}` : ""}`,
  );
}
