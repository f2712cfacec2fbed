// Stage-1 speed: N random unit vectors (d = 384), k = 100.
// (a) FaissVectorStore search, (b) raw faiss-node search on the same index, (c) LangChain's MemoryVectorStore;
// the scan rate of (b) beside a TypedArray.set copy of the same bytes; bulk add vs FaissStore.addVectors;
// and (a) at N = 10k, 100k, 1M. Run: npm run bench:recall  (BENCH_RECALL_MAX_N=100000 skips the 1M point)
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";

import { FaissVectorStore } from "../src/recall/faiss/faiss_vector_store.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";
import { machineLine, median } from "./support.js";

const DIM = 384;
const K = 100;
const QUERIES = 50;
const embeddings = new FakeEmbeddings();
console.log(`# recall bench — ${machineLine()}`);

function docs(count: number): Document[] {
  return Array.from({ length: count }, (_, i) => new Document({ pageContent: `document ${i}`, metadata: { i } }));
}

async function timePerCall(calls: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const queries = randomUnitVectors(QUERIES + 3, DIM, 99);
const query = (i: number) => Array.from(queries.subarray((i % QUERIES) * DIM, ((i % QUERIES) + 1) * DIM));

async function storeOf(n: number): Promise<{ store: FaissVectorStore; addMs: number; data: Float32Array }> {
  const data = randomUnitVectors(n, DIM, n);
  const store = new FaissVectorStore(embeddings);
  const t0 = performance.now();
  store.addFlatVectors(data, DIM, docs(n));
  return { store, addMs: performance.now() - t0, data };
}

// --- N = 100k: (a), (b), (c), scan rate, bulk add ---
const N = 100_000;
const { store, data } = await storeOf(N);
const bytes = N * DIM * 4;
const ours = await timePerCall(QUERIES, (i) => store.similaritySearchVectorWithScore(query(i), K));
const native = store.faissIndex!;
const raw = await timePerCall(QUERIES, (i) => native.search(query(i), K));
const copyTarget = new Float32Array(data.length);
const copy = await timePerCall(20, () => copyTarget.set(data));
console.log(`\nN = ${N}, d = ${DIM}, k = ${K} (median of ${QUERIES} queries)`);
console.log(`(a) FaissVectorStore search: ${ours.toFixed(2)} ms/query`);
console.log(
  `(b) raw faiss-node search:   ${raw.toFixed(2)} ms/query  → (a)/(b) = ${(ours / raw).toFixed(2)} (target <= 1.2)`,
);
console.log(
  `scan rate of (b): ${(bytes / raw / 1e6).toFixed(1)} GB/s; TypedArray.set copy of the same ${(bytes / 1e6).toFixed(0)} MB: ${(bytes / copy / 1e6).toFixed(1)} GB/s (target: scan >= copy)`,
);

const memory = new MemoryVectorStore(embeddings);
const vectors: number[][] = Array.from({ length: N }, (_, r) => Array.from(data.subarray(r * DIM, (r + 1) * DIM)));
await memory.addVectors(vectors, docs(N));
const mem = await timePerCall(5, (i) => memory.similaritySearchVectorWithScore(query(i), K));
console.log(
  `(c) MemoryVectorStore search: ${mem.toFixed(1)} ms/query → (c)/(a) = ${(mem / ours).toFixed(0)}× (target >= 10)`,
);

let t0 = performance.now();
const bulk = new FaissVectorStore(embeddings);
await bulk.addVectors(vectors, docs(N));
const bulkMs = performance.now() - t0;
t0 = performance.now();
const legacy = new FaissStore(embeddings, {});
await legacy.addVectors(vectors, docs(N));
const legacyMs = performance.now() - t0;
console.log(
  `bulk add of ${N} vectors: FaissVectorStore.addVectors ${(bulkMs / 1000).toFixed(2)} s vs FaissStore.addVectors ${(legacyMs / 1000).toFixed(2)} s → ${(legacyMs / bulkMs).toFixed(0)}× (target >= 10)`,
);

// --- the curve ---
console.log("\n(a) by corpus size:");
const maxN = Number(process.env.BENCH_RECALL_MAX_N ?? 1_000_000);
for (const n of [10_000, 100_000, 1_000_000].filter((n) => n <= maxN)) {
  const built = n === N ? { store, addMs: NaN } : await storeOf(n);
  const ms = await timePerCall(QUERIES, (i) => built.store.similaritySearchVectorWithScore(query(i), K));
  console.log(
    `N = ${String(n).padStart(9)}: ${ms.toFixed(2)} ms/query${Number.isNaN(built.addMs) ? "" : ` (bulk add ${(built.addMs / 1000).toFixed(2)} s)`}`,
  );
}
