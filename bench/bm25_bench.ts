// BM25 stage-1 speed, side by side in one run: Bm25Index (this package) vs LangChain's BM25Retriever
// (@langchain/community/retrievers/bm25) on the same documents and queries, and vs FaissVectorStore flat search
// (random unit vectors, d = 384) at the same N. k = 100.
// (1) BEIR SciFact (5,183 documents, 300 queries); (2) ~100k documents: scifact + cranfield + cisi + adi repeated
// with varied ids, queried with the four collections' queries. LangChain's retriever re-reads every document on every
// query, so at 100k it is timed on a sample of queries (BENCH_BM25_LANGCHAIN_QUERIES, default 5).
// Run: npm run bench:bm25
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { BM25Retriever } from "@langchain/community/retrievers/bm25";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { Bm25Index } from "../src/recall/bm25/bm25_index.js";
import { FaissVectorStore } from "../src/recall/faiss/faiss_vector_store.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";
import { DATASETS, machineLine, median } from "./support.js";

const K = 100;
const LARGE_N = 100_000;
const LANGCHAIN_SAMPLE = Number(process.env.BENCH_BM25_LANGCHAIN_QUERIES ?? 5);
const COLLECTIONS = ["scifact", "cranfield", "cisi", "adi"];

console.log(`# bm25 bench — ${machineLine()}`);

const datasets = COLLECTIONS.map((name) => loadBeirDataset(path.join(DATASETS, name)));
const documentsOf = (rep: number, name: string, corpus: (typeof datasets)[number]["corpus"]): Document[] =>
  corpus.map(
    (d) =>
      new Document({
        pageContent: documentText(d),
        metadata: { collection: name },
        id: `${name}-${d.id}-r${rep}`,
      }),
  );

async function timeEach(queries: string[], run: (q: string) => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    await run(q);
    times.push(performance.now() - t0);
  }
  return times;
}

function sample<T>(items: T[], count: number): T[] {
  const step = Math.max(1, Math.floor(items.length / count));
  return items.filter((_, i) => i % step === 0).slice(0, count);
}

async function measure(label: string, docs: Document[], queries: string[]): Promise<void> {
  const n = docs.length;
  console.log(`\n## ${label}: N = ${n} documents, ${queries.length} queries, k = ${K}`);

  // --- Bm25Index ---
  const heapBefore = process.memoryUsage().heapUsed;
  let t0 = performance.now();
  const index = await Bm25Index.fromDocuments(docs);
  const buildMs = performance.now() - t0;
  const heapAfter = process.memoryUsage().heapUsed;
  const postings = index.postingCount;
  const postingBytesEach = index.postingBytes / postings;
  await timeEach(queries.slice(0, 20), (q) => index.recall(q, K)); // warm-up
  const ours = median(await timeEach(queries, (q) => index.recall(q, K)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bm25-bench-"));
  await index.save(path.join(dir, "index"));
  t0 = performance.now();
  await Bm25Index.load(path.join(dir, "index"));
  const loadMs = performance.now() - t0;
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `Bm25Index: build ${(buildMs / 1000).toFixed(2)} s (analysis included), load ${loadMs.toFixed(0)} ms, query p50 ${ours.toFixed(2)} ms (recall API, ${queries.length} queries)`,
  );
  console.log(
    `  ${index.vocabularySize} terms, ${postings} postings; postings + offsets + lengths ${(index.postingBytes / 1e6).toFixed(1)} MB = ${postingBytesEach.toFixed(2)} bytes per posting (6 = Uint32 doc + Uint16 tf); heap growth during build ≈ ${((heapAfter - heapBefore) / 1e6).toFixed(0)} MB (documents and strings included, GC-dependent)`,
  );

  // --- LangChain BM25Retriever ---
  t0 = performance.now();
  const langchain = BM25Retriever.fromDocuments(docs, { k: K, includeScore: true });
  const lcBuildMs = performance.now() - t0;
  const lcQueries = n > 20_000 ? sample(queries, LANGCHAIN_SAMPLE) : sample(queries, 30);
  await langchain.invoke(lcQueries[0]); // warm-up
  const lc = median(await timeEach(lcQueries, (q) => langchain.invoke(q)));
  console.log(
    `LangChain BM25Retriever: build ${(lcBuildMs / 1000).toFixed(2)} s (stores the documents; scoring analyzes the corpus per query), query p50 ${lc.toFixed(1)} ms (${lcQueries.length} queries) → Bm25Index is ${(lc / ours).toFixed(0)}× faster${n >= LARGE_N ? " (target >= 50×)" : ""}`,
  );

  // --- FaissVectorStore flat, same N ---
  const dim = 384;
  const vectors = randomUnitVectors(n, dim, n);
  const store = new FaissVectorStore(new FakeEmbeddings());
  store.addFlatVectors(
    vectors,
    dim,
    docs.map(() => new Document({ pageContent: "", metadata: {} })),
    docs.map((d) => d.id as string),
  );
  const queryVectors = randomUnitVectors(53, dim, 7);
  const vectorOf = (i: number) => Array.from(queryVectors.subarray((i % 50) * dim, ((i % 50) + 1) * dim));
  for (let i = 0; i < 3; i++) await store.similaritySearchVectorWithScore(vectorOf(i), K);
  const faissTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await store.similaritySearchVectorWithScore(vectorOf(i), K);
    faissTimes.push(performance.now() - t);
  }
  const faiss = median(faissTimes);
  console.log(
    `FaissVectorStore flat (d = ${dim}, random unit vectors): query p50 ${faiss.toFixed(2)} ms (50 queries, embedding excluded) → Bm25Index / FAISS = ${(ours / faiss).toFixed(2)}${n >= LARGE_N ? " (target <= 1)" : ""}`,
  );
}

// (1) SciFact
const scifact = datasets[0];
await measure(
  "BEIR SciFact",
  documentsOf(0, "scifact", scifact.corpus),
  scifact.queries.map((q) => q.text),
);

// (2) ~100k documents
const large: Document[] = [];
for (let rep = 0; large.length < LARGE_N; rep++) {
  datasets.forEach((d, i) => large.push(...documentsOf(rep, COLLECTIONS[i], d.corpus)));
}
large.length = LARGE_N;
await measure(
  `scifact + cranfield + cisi + adi repeated (varied ids), first ${LARGE_N}`,
  large,
  datasets.flatMap((d) => d.queries.map((q) => q.text)),
);
