// BM25 stage 1 measured against Anserini's BEIR "flat" regression (BM25 k1 0.9 b 0.4, Lucene's English analyzer,
// title + " " + text): SciFact nDCG@10 0.6789, Recall@100 0.9253, Recall@1000 0.9767 (trec_eval -c).
// For each dataset: builds a Bm25Index, ranks 1000 documents per query through the library API (Bm25Index.recall),
// scores them with the package's metrics, writes a TREC run file, and (with --trec-eval PATH) checks the run file
// with trec_eval -c -m ndcg_cut.10 -m recall.100,1000. Also times save/load of the index.
//
// Run: npx tsx scripts/bm25_anchor.ts [--datasets DIR] [--trec-eval PATH] [--out DIR] [scifact cranfield cisi adi]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Document } from "@langchain/core/documents";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import type { RunEntry } from "../src/eval/evaluate.js";
import { mean, ndcgAt, recallAt } from "../src/eval/metrics.js";
import { writeTrecRun } from "../src/eval/trec_run.js";
import { Bm25Index } from "../src/recall/bm25/bm25_index.js";

const ANCHOR = { dataset: "scifact", ndcg10: 0.6789, recall100: 0.9253, recall1000: 0.9767 };
const DEPTH = 1000;

const args = process.argv.slice(2);
const option = (name: string, fallback?: string): string | undefined => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
};
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const datasetsDir = option("--datasets", path.resolve(root, "..", "shared", "datasets"))!;
const trecEval = option("--trec-eval");
const outDir = option("--out", fs.mkdtempSync(path.join(os.tmpdir(), "bm25-anchor-")))!;
const names = args.length > 0 ? args : ["scifact", "cranfield", "cisi", "adi"];
fs.mkdirSync(outDir, { recursive: true });

function trecEvalFigures(qrels: string, run: string): Record<string, number> {
  const output = execFileSync(trecEval!, ["-c", "-m", "ndcg_cut.10", "-m", "recall.100,1000", qrels, run], {
    encoding: "utf8",
  });
  const figures: Record<string, number> = {};
  for (const line of output.split("\n")) {
    const [measure, scope, value] = line.trim().split(/\s+/);
    if (scope === "all") figures[measure] = Number(value);
  }
  return figures;
}

/** trec_eval wants `qid 0 docid grade`; BEIR's qrels.tsv is `query-id corpus-id score` with a header. */
function trecQrels(dir: string, file: string): void {
  const lines = fs
    .readFileSync(path.join(dir, "qrels.tsv"), "utf8")
    .split("\n")
    .filter((line, i) => line.trim() !== "" && !(i === 0 && line.startsWith("query-id")))
    .map((line) => {
      const [q, d, g] = line.trim().split(/\s+/);
      return `${q} 0 ${d} ${g}`;
    });
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
}

console.log(
  `| dataset | docs | queries | build s | load ms | nDCG@10 | Recall@100 | Recall@1000 | trec_eval nDCG@10 / R@100 / R@1000 |`,
);
console.log(`|---|---|---|---|---|---|---|---|---|`);
for (const name of names) {
  const dir = path.join(datasetsDir, name);
  const dataset = loadBeirDataset(dir);
  const docs = dataset.corpus.map((d) => new Document({ pageContent: documentText(d), metadata: {}, id: d.id }));
  let started = performance.now();
  const built = await Bm25Index.fromDocuments(docs);
  const buildSeconds = (performance.now() - started) / 1000;
  const saved = path.join(outDir, `${name}-index`);
  await built.save(saved);
  started = performance.now();
  const index = await Bm25Index.load(saved);
  const loadMs = performance.now() - started;

  const run = new Map<string, RunEntry[]>();
  const ndcg: number[] = [];
  const r100: number[] = [];
  const r1000: number[] = [];
  for (const query of dataset.queries) {
    const hits = await index.recall(query.text, DEPTH);
    const entries = hits.map((hit) => ({ docId: hit.document.id as string, score: hit.score }));
    run.set(query.id, entries);
    const ranking = entries.map((e) => e.docId);
    const judgments = dataset.qrels.get(query.id)!;
    ndcg.push(ndcgAt(ranking, judgments, 10));
    r100.push(recallAt(ranking, judgments, 100));
    r1000.push(recallAt(ranking, judgments, 1000));
  }
  const runFile = path.join(outDir, `${name}.bm25.run`);
  writeTrecRun(runFile, run, "bm25");
  let check = "(no --trec-eval)";
  if (trecEval) {
    const qrelsFile = path.join(outDir, `${name}.qrels`);
    trecQrels(dir, qrelsFile);
    const f = trecEvalFigures(qrelsFile, runFile);
    check = `${f.ndcg_cut_10.toFixed(4)} / ${f.recall_100.toFixed(4)} / ${f.recall_1000.toFixed(4)}`;
  }
  console.log(
    `| ${name} | ${docs.length} | ${dataset.queries.length} | ${buildSeconds.toFixed(2)} | ${loadMs.toFixed(0)} | ${mean(ndcg).toFixed(4)} | ${mean(r100).toFixed(4)} | ${mean(r1000).toFixed(4)} | ${check} |`,
  );
  if (name === ANCHOR.dataset) {
    console.log(
      `|  | anchor (Anserini BEIR flat) |  |  |  | ${ANCHOR.ndcg10} | ${ANCHOR.recall100} | ${ANCHOR.recall1000} | Δ nDCG@10 ${(mean(ndcg) - ANCHOR.ndcg10).toFixed(4)}, Δ R@100 ${(mean(r100) - ANCHOR.recall100).toFixed(4)} |`,
    );
  }
}
console.log(`\nRun files and saved indexes: ${outDir}`);
