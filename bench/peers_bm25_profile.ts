// Where a BM25 query's time goes, ours only (no peers): `npx tsx bench/peers_bm25_profile.ts [docs] [rounds]`.
// Builds the corpus `bench:peers --bm25-large <docs>` builds (scifact + cranfield + cisi + adi repeated with new ids;
// 0 = SciFact alone), then times, query by query over all the collections' queries, `Bm25Index.search` (ranking
// only) and `Bm25Index.recall` (Documents), and prints p50/p95 per round, with the postings count and bytes. For a
// CPU profile: `node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/peers_bm25_profile.ts 100000 1`.
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { quantile } from "../src/eval/metrics.js";
import { Bm25Index } from "../src/recall/bm25/bm25_index.js";
import { DATASETS, median } from "./support.js";

const docs = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const K = 100;

const names = docs > 0 ? ["scifact", "cranfield", "cisi", "adi"] : ["scifact"];
const sets = names.map((name) => loadBeirDataset(path.join(DATASETS, name)));
const documents: Document[] = [];
if (docs === 0) {
  for (const d of sets[0].corpus) documents.push(new Document({ pageContent: documentText(d), id: d.id }));
} else {
  for (let copy = 0; documents.length < docs; copy++) {
    sets.forEach((set, s) => {
      for (const d of set.corpus) {
        if (documents.length >= docs) return;
        documents.push(new Document({ pageContent: documentText(d), id: `${names[s]}-${d.id}-r${copy}` }));
      }
    });
  }
}
const queries = (docs === 0 ? sets.slice(0, 1) : sets).flatMap((s) => s.queries.map((q) => q.text));

const t0 = performance.now();
const index = await Bm25Index.fromDocuments(documents, { k1: 0.9, b: 0.4 });
console.log(
  `${documents.length} docs, ${queries.length} queries: build ${(performance.now() - t0).toFixed(0)} ms; ` +
    `${index.postingCount} postings, ${(index.postingBytes / 1e6).toFixed(1)} MB of typed arrays`,
);

const firstSearch = performance.now();
index.search(queries[0], K);
console.log(`first search after the build (derived arrays): ${(performance.now() - firstSearch).toFixed(1)} ms`);

for (let r = 0; r < rounds; r++) {
  const search: number[] = [];
  const recall: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await index.recall(q, K);
    recall.push(performance.now() - t);
  }
  for (const q of queries) {
    const t = performance.now();
    index.search(q, K);
    search.push(performance.now() - t);
  }
  console.log(
    `round ${r}: search p50 ${median(search).toFixed(4)} p95 ${quantile(search, 0.95).toFixed(3)} ms | ` +
      `recall p50 ${median(recall).toFixed(4)} p95 ${quantile(recall, 0.95).toFixed(3)} ms`,
  );
}
