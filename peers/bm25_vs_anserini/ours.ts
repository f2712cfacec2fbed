// Ours: Bm25Index (EnglishAnalyzer, k1 0.9, b 0.4, Lucene length quantisation) on SciFact, built as
// bench/peers_bm25.ts builds it. Writes queries.json (the 300 test queries, in order; the Lucene side reads it) and
// ours_run.json (top 1000 per query).
import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { documentText, loadBeirDataset } from "../../src/eval/beir_dataset.js";
import { Bm25Index } from "../../src/recall/bm25/bm25_index.js";
import { outDir, type Run, SCIFACT_DIR } from "./shared.js";

const out = outDir();
const data = loadBeirDataset(SCIFACT_DIR);
const docs = data.corpus.map((d) => new Document({ pageContent: documentText(d), id: d.id }));
const index = await Bm25Index.fromDocuments(docs, { k1: 0.9, b: 0.4 });
const queries = data.queries.map((q) => ({ id: q.id, text: q.text }));
fs.writeFileSync(path.join(out, "queries.json"), JSON.stringify(queries));
const run: Run = {};
for (const q of data.queries) {
  run[q.id] = index.search(q.text, 1000).map(([d, score]) => [data.corpus[d].id, score]);
}
fs.writeFileSync(path.join(out, "ours_run.json"), JSON.stringify(run));
console.log(`ours: Bm25Index over ${docs.length} documents, ${queries.length} queries -> ours_run.json`);
