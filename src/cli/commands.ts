import fs from "node:fs";
import path from "node:path";

import type { DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { documentText, loadBeirDataset } from "../eval/beir_dataset.js";
import { type EvaluationReport, evaluate } from "../eval/evaluate.js";
import { writeTrecRun } from "../eval/trec_run.js";
import { FaissVectorStore } from "../recall/faiss_vector_store.js";
import type { TransformersEmbeddings } from "../recall/transformers_embeddings.js";
import { type Explanation, TwoStageRetriever } from "../two_stage_retriever.js";
import { type ParsedArgs, intListOption, intOption, optionalIntOption, stringOption } from "./args.js";
import { readInputDocuments } from "./input_documents.js";
import { renderKeepSweep } from "./keep_sweep_table.js";
import { type ModelChoice, describeModels, instantiate, lexicalModelsFor, modelChoice } from "./models.js";
import { Progress } from "./progress.js";
import { renderTable, snippet } from "./table.js";

/** What `index` records beside the vectors, so `query` uses the same embedding model. */
interface IndexManifest {
  version: 1;
  embeddingModel: string;
  rerankerModel: string;
  lexical: boolean;
  documents: number;
  createdAt: string;
}

const MANIFEST = "two-stage.json";

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

/** Embeds documents in batches with a progress bar and adds them to the store in one bulk call. */
export async function embedInto(
  store: FaissVectorStore,
  embeddings: TransformersEmbeddings,
  docs: DocumentInterface[],
  quiet: boolean,
): Promise<void> {
  const progress = new Progress("embedding", docs.length, quiet);
  const batch = 64;
  const vectors: number[][] = [];
  for (let start = 0; start < docs.length; start += batch) {
    const slice = docs.slice(start, start + batch);
    vectors.push(...(await embeddings.embedDocuments(slice.map((d) => d.pageContent))));
    progress.tick(slice.length);
  }
  await store.addVectors(vectors, docs as DocumentInterface[], { ids: docs.map((d) => String(d.metadata.docId)) });
}

/** `two-stage index <inputs…> --out <dir> [--append | --rebuild]` */
export async function indexCommand(args: ParsedArgs): Promise<void> {
  const out = stringOption(args, "out");
  if (!out) throw new InvalidArgumentError("index needs --out <dir>: where to write the index.");
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  const json = args.options.has("json");
  const exists = fs.existsSync(path.join(out, "faiss.index"));
  const append = args.options.has("append");
  if (exists && !append && !args.options.has("rebuild")) {
    throw new InvalidArgumentError(
      `${out} already holds an index. Pass --append to add to it or --rebuild to replace it.`,
    );
  }
  const started = performance.now();
  const docs = await readInputDocuments(
    args.positionals,
    intOption(args, "chunk-size", 1000),
    intOption(args, "chunk-overlap", 100),
  );
  const previous: Partial<IndexManifest> = exists && append ? readManifest(out) : {};
  let choice = modelChoice(args, previous);
  if (args.options.has("lexical-models") && !append) {
    choice = { ...choice, ...lexicalModelsFor(docs.map((d) => d.pageContent)), lexical: true };
  }
  if (!json) process.stderr.write(`${describeModels(choice)}\n`);
  const { embeddings } = instantiate(choice);
  const store = exists && append ? await FaissVectorStore.load(out, embeddings) : new FaissVectorStore(embeddings);
  await embedInto(store, embeddings, docs, false);
  const manifest: IndexManifest = {
    version: 1,
    embeddingModel: choice.embeddingModel,
    rerankerModel: choice.rerankerModel,
    lexical: choice.lexical,
    documents: store.size,
    createdAt: new Date().toISOString(),
  };
  await store.save(out, { extraFiles: { [MANIFEST]: `${JSON.stringify(manifest, null, 2)}\n` } });
  await embeddings.dispose();
  const summary = { out, added: docs.length, dim: store.dim, ms: Math.round(performance.now() - started), ...manifest };
  print(
    json,
    summary,
    `Indexed ${docs.length} chunks into ${out} (${store.size} in all, dimension ${store.dim}) in ${(summary.ms / 1000).toFixed(1)} s.`,
  );
}

function readManifest(dir: string): Partial<IndexManifest> {
  const file = path.join(dir, MANIFEST);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as IndexManifest) : {};
}

/** Renders what each stage did for one query: the returned documents, in order, with both ranks and scores. */
export function renderExplanation(explanation: Explanation, scoreKind: string): string {
  const rows = explanation.documents.map((doc, i) => {
    const c = explanation.candidates[(doc.metadata.recallRank as number) - 1];
    return [
      i + 1,
      // With a cascade, every stage's rank: stage 1 → cascade stage 1 → … → final.
      [c.recallRank, ...(c.stages?.slice(0, -1).map((stage) => stage.rank) ?? []), c.rerankRank ?? "-"].join(" → "),
      c.recallScore.toFixed(3),
      c.relevanceScore === undefined ? "-" : c.relevanceScore.toFixed(3),
      snippet(c.document.pageContent),
    ];
  });
  const { recallMs, rerankMs } = explanation.timings;
  return [
    `Q: ${explanation.query}`,
    renderTable(["rank", "stage 1 → 2", scoreKind, "relevance", "text"], rows),
    `stage 1: ${recallMs.toFixed(1)} ms for ${explanation.candidates.length} candidates; stage 2: ${rerankMs.toFixed(1)} ms`,
  ].join("\n");
}

function explanationJson(explanation: Explanation): unknown {
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

/** Loads an index folder written by `index` as a retriever, with the models its manifest names. */
export async function openIndex(
  dir: string,
  args: ParsedArgs,
): Promise<{ retriever: TwoStageRetriever; choice: ModelChoice }> {
  if (!fs.existsSync(path.join(dir, "faiss.index"))) {
    throw new InvalidArgumentError(
      `${dir} is not an index folder (no faiss.index). Create one with: two-stage index <files> --out ${dir}`,
    );
  }
  const choice = modelChoice(args, readManifest(dir));
  const { embeddings, reranker } = instantiate(choice);
  const retriever = await TwoStageRetriever.load(dir, {
    embeddings,
    compressor: reranker,
    recallK: optionalIntOption(args, "recall-k"),
    topK: optionalIntOption(args, "top-k"),
  });
  return { retriever, choice };
}

/** `two-stage query <index> "question" [--recall-k N] [--top-k N]` */
export async function queryCommand(args: ParsedArgs): Promise<void> {
  const [dir, ...words] = args.positionals;
  const question = words.join(" ").trim();
  if (!dir || !question)
    throw new InvalidArgumentError('query needs an index folder and a question: two-stage query <index> "question"');
  const json = args.options.has("json");
  const { retriever, choice } = await openIndex(dir, args);
  if (!json) process.stderr.write(`${describeModels(choice)}\n`);
  const explanation = await retriever.explain(question);
  print(json, explanationJson(explanation), renderExplanation(explanation, retriever.source.scoreKind));
}

/** Renders an evaluation report as the sweep table, the stage-1 rank histogram and the recommendation. */
export function renderReport(report: EvaluationReport): string {
  const withOracle = report.results.some((r) => r.oracleAgreement !== undefined);
  const headers = [
    "recallK",
    `nDCG@${report.topK}`,
    `MRR@${report.topK}`,
    "Recall@recallK",
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

/** `two-stage eval --dataset <dir> [--recall-k 10,20,50,100,200] [--top-k 10] [--max-queries N] [--run-out prefix]` */
export async function evalCommand(args: ParsedArgs): Promise<void> {
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
  const recallKs = intListOption(args, "recall-k", [10, 20, 50, 100, 200]);
  const topK = intOption(args, "top-k", 10);
  const maxQueries = args.options.has("max-queries") ? intOption(args, "max-queries", 1) : undefined;
  const oracleMaxCorpus = args.options.has("oracle-max-corpus") ? intOption(args, "oracle-max-corpus", 1) : 0;
  const started = performance.now();
  const dataset = loadBeirDataset(datasetDir);
  // Documents with no text cannot be embedded for cosine search (and cannot answer anything): left out, counted.
  const indexable = dataset.corpus.filter((doc) => documentText(doc).trim() !== "");
  const emptyDocuments = dataset.corpus.length - indexable.length;
  const texts = indexable.map(documentText);
  let choice = modelChoice(args);
  if (args.options.has("lexical-models")) choice = { ...choice, ...lexicalModelsFor(texts), lexical: true };
  if (!json) process.stderr.write(`${describeModels(choice)}\n`);
  const { embeddings, reranker } = instantiate(choice);
  const store = new FaissVectorStore(embeddings);
  await embedInto(
    store,
    embeddings,
    indexable.map((doc, i) => ({ pageContent: texts[i], metadata: { docId: doc.id } })),
    false,
  );
  const indexMs = performance.now() - started;
  const retriever = new TwoStageRetriever({
    vectorStore: store,
    compressor: reranker,
    recallK: Math.max(...recallKs),
    topK,
  });
  const total = Math.min(dataset.queries.length, maxQueries ?? dataset.queries.length);
  const progress = new Progress("evaluating", total);
  const report = await evaluate(retriever, dataset, {
    recallKs,
    topK,
    maxQueries: total,
    oracleMaxCorpus,
    keeps: choice.thenModel !== undefined ? (choice.keeps ?? [10, 20, 50]) : undefined,
    onProgress: () => progress.tick(),
  });
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
    { ...serialisable, models: choice, emptyDocuments, indexMs, totalMs: wall, runFiles },
    `${renderReport(report)}${emptyDocuments ? `\n${emptyDocuments} empty documents were left out of the index.` : ""}\nIndexing ${(indexMs / 1000).toFixed(1)} s; total ${(wall / 1000).toFixed(1)} s.${runFiles.length ? `\nRun files: ${runFiles.join(", ")}` : ""}`,
  );
}
