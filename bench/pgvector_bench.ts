// Stage 1 on PostgreSQL + pgvector against FAISS, on scifact (5,183 documents) with the project's lexical test
// embeddings (no download): (1) exact pgvector search returns FAISS's top-100 ids and cosines (within 1e-5);
// (2) bulk load rate through PGVectorStore.addVectors and through bulkInsertPgvector (unnest arrays, one
// transaction); (3) HNSW (m 16, ef_construction 64): Recall@100 against exact search and query p50 at ef_search
// 40/100/200. Postgres: PGlite + pgvector over the wire protocol (pglite-socket, own process), or DATABASE_URL.
// Run: npm run bench:pgvector
import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import pg from "pg";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { FaissVectorStore } from "../src/recall/faiss/faiss_vector_store.js";
import { bulkInsertPgvector } from "../src/recall/pgvector/pgvector_bulk_insert.js";
import { createHnswIndex } from "../src/recall/pgvector/pgvector_hnsw.js";
import { type PgvectorStoreHandle, connectPgvectorStore } from "../src/recall/pgvector/pgvector_store.js";
import { TransformersEmbeddings } from "../src/models/transformers_embeddings.js";
import { VectorStoreSource } from "../src/recall/vector_store_source.js";
import { buildLexicalBiEncoder } from "../src/testing/index.js";
import { startPostgres } from "../__tests__/support/postgres.js";
import { DATASETS, MODEL_CACHE, machineLine, median } from "./support.js";

const K = 100;
const dataset = loadBeirDataset(path.join(DATASETS, "scifact"));
const texts = dataset.corpus.map(documentText);
const docs = dataset.corpus.map((d, i) => new Document({ pageContent: texts[i], metadata: { docId: d.id } }));
const queries = dataset.queries;
console.log(`# pgvector bench — ${machineLine()}`);
console.log(`scifact: ${docs.length} documents, ${queries.length} queries, k = ${K}`);

const modelDir = path.join(MODEL_CACHE, `lexical-bi-scifact-${docs.length}`);
if (!fs.existsSync(path.join(modelDir, "config.json"))) buildLexicalBiEncoder(modelDir, { corpus: texts });
const embeddings = new TransformersEmbeddings({ model: modelDir });
let t0 = performance.now();
const vectors: number[][] = [];
for (let start = 0; start < texts.length; start += 64) {
  vectors.push(...(await embeddings.embedDocuments(texts.slice(start, start + 64))));
}
const queryVectors = await embeddings.embedDocuments(queries.map((q) => q.text));
const dim = vectors[0].length;
console.log(`embedded corpus + queries (d = ${dim}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// FAISS: the exact reference.
const faiss = new FaissVectorStore(embeddings);
await faiss.addVectors(vectors, docs);
const faissSource = new VectorStoreSource(faiss);
const faissTop: { ids: string[]; scores: number[] }[] = [];
const faissMs: number[] = [];
for (const vector of queryVectors) {
  t0 = performance.now();
  const hits = await faiss.similaritySearchVectorWithScore(vector, K);
  faissMs.push(performance.now() - t0);
  faissTop.push({ ids: hits.map(([d]) => String(d.metadata.docId)), scores: hits.map(([, s]) => s) });
}

const postgres = await startPostgres();
console.log(`Postgres: ${postgres.engine}`);
const open = (tableName: string, efSearch?: number) =>
  connectPgvectorStore(embeddings, {
    connectionString: postgres.connectionString,
    tableName,
    dimensions: dim,
    efSearch,
  });
const loadRate = async (handle: PgvectorStoreHandle, load: () => Promise<unknown>) => {
  const started = performance.now();
  await load();
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await handle.store.pool.query(`SELECT count(*)::int AS n FROM ${handle.store.tableName}`);
  if (rows[0].n !== docs.length) throw new Error(`loaded ${rows[0].n} rows, expected ${docs.length}`);
  return docs.length / seconds;
};

try {
  // --- bulk load, side by side ---
  const viaStore = await open(postgres.tableName("addvectors"));
  const addVectorsRate = await loadRate(viaStore, () => viaStore.store.addVectors(vectors, docs));
  await viaStore.end();
  const tableName = postgres.tableName("bench");
  let handle = await open(tableName);
  const bulkRate = await loadRate(handle, () => bulkInsertPgvector(handle.store, vectors, docs));
  console.log(`\nbulk load of ${docs.length} documents (d = ${dim}), vectors precomputed:`);
  console.log(`  PGVectorStore.addVectors (500-row INSERTs): ${addVectorsRate.toFixed(0)} docs/s`);
  console.log(
    `  bulkInsertPgvector (500-row unnest INSERTs, one transaction): ${bulkRate.toFixed(0)} docs/s ` +
      `(${(bulkRate / addVectorsRate).toFixed(2)}×)`,
  );

  // --- exact search: the same ids and cosines as FAISS ---
  const pgSource = new VectorStoreSource(handle.store);
  const exactTop: string[][] = [];
  const exactMs: number[] = [];
  let sameOrder = 0;
  let sameUpToTies = 0;
  let maxScoreDiff = 0;
  for (const [qi, vector] of queryVectors.entries()) {
    t0 = performance.now();
    const hits = await handle.store.similaritySearchVectorWithScore(vector, K);
    exactMs.push(performance.now() - t0);
    const ids = hits.map(([d]) => String(d.metadata.docId));
    const cosines = hits.map(([, distance]) => 1 - distance); // the conversion VectorStoreSource applies
    exactTop.push(ids);
    const reference = faissTop[qi];
    if (ids.join() === reference.ids.join()) sameOrder += 1;
    // Equal up to ties: position by position the same cosine, and the same set of ids above the last score.
    const scoresMatch = cosines.every((s, i) => Math.abs(s - reference.scores[i]) <= 1e-5);
    if (scoresMatch && cosines.length === reference.scores.length) sameUpToTies += 1;
    const byId = new Map(reference.ids.map((id, i) => [id, reference.scores[i]]));
    ids.forEach((id, i) => {
      if (byId.has(id)) maxScoreDiff = Math.max(maxScoreDiff, Math.abs(byId.get(id)! - cosines[i]));
    });
  }
  // The adapter path too (embeds the query; converts with the store's convention): first query, checked.
  const viaAdapter = await pgSource.recall(queries[0].text, K);
  const viaFaiss = await faissSource.recall(queries[0].text, K);
  const adapterSame = viaAdapter.every(
    (c, i) =>
      c.document.metadata.docId === viaFaiss[i].document.metadata.docId &&
      Math.abs(c.score - viaFaiss[i].score) <= 1e-5,
  );
  console.log(`\nexact pgvector vs FAISS, top-${K} of ${queries.length} queries:`);
  console.log(
    `  identical id order: ${sameOrder}/${queries.length}; same cosines position by position (1e-5): ${sameUpToTies}/${queries.length}`,
  );
  console.log(
    `  max |cosine difference| for the same document: ${maxScoreDiff.toExponential(2)}; VectorStoreSource path agrees: ${adapterSame}`,
  );
  console.log(`  query p50: FAISS ${median(faissMs).toFixed(2)} ms, pgvector exact ${median(exactMs).toFixed(2)} ms`);

  // --- HNSW ---
  await handle.end();
  handle = await open(tableName);
  t0 = performance.now();
  const indexName = await createHnswIndex(handle.store, { m: 16, efConstruction: 64 });
  console.log(`\nHNSW (m 16, ef_construction 64) built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await handle.end();
  console.log(`  ef_search | iterative scan | plan       | Recall@${K} vs exact | rows returned (mean) | query p50 ms`);
  for (const [efSearch, iterativeScan] of [
    [40, "off"],
    [40, "strict_order"],
    [100, "strict_order"],
    [200, "strict_order"],
  ] as const) {
    // PGlite is one backend: its session settings are shared, so one ef_search at a time.
    const ann = await connectPgvectorStore(embeddings, {
      connectionString: postgres.connectionString,
      tableName,
      dimensions: dim,
      efSearch,
      iterativeScan,
    });
    // The planner prices an HNSW scan by ef_search: past some ef_search it picks an exact scan of a small table.
    const plan = await ann.store.pool.query(`EXPLAIN SELECT * FROM ${tableName} ORDER BY embedding <=> $1 LIMIT ${K}`, [
      `[${queryVectors[0].join(",")}]`,
    ]);
    const usesIndex = plan.rows.some((r) => String(r["QUERY PLAN"]).includes(indexName));
    const ms: number[] = [];
    let recall = 0;
    let rows = 0;
    for (const [qi, vector] of queryVectors.entries()) {
      t0 = performance.now();
      const hits = await ann.store.similaritySearchVectorWithScore(vector, K);
      ms.push(performance.now() - t0);
      const exact = new Set(exactTop[qi]);
      recall += hits.filter(([d]) => exact.has(String(d.metadata.docId))).length / K;
      rows += hits.length;
    }
    await ann.end();
    console.log(
      `  ${String(efSearch).padStart(9)} | ${iterativeScan.padEnd(14)} | ${(usesIndex ? "HNSW" : "exact scan").padEnd(10)} | ${(recall / queryVectors.length).toFixed(4).padStart(19)} | ` +
        `${(rows / queryVectors.length).toFixed(1).padStart(20)} | ${median(ms).toFixed(2)}`,
    );
  }
  // The index itself at each ef_search, the planner's choice taken away (enable_seqscan off), on one connection.
  console.log(
    `\n  HNSW forced (enable_seqscan off), its ORDER BY … LIMIT selecting the id only, strict_order iterative scan:`,
  );
  console.log(`  ef_search | Recall@${K} vs exact | query p50 ms`);
  const client = new pg.Client({ connectionString: postgres.connectionString });
  await client.connect();
  try {
    for (const efSearch of [40, 100, 200]) {
      await client.query(
        `SET enable_seqscan = off; SET hnsw.ef_search = ${efSearch}; SET hnsw.iterative_scan = strict_order`,
      );
      const sql = `SELECT metadata->>'docId' AS id FROM ${tableName} ORDER BY embedding <=> $1 LIMIT ${K}`;
      const first = await client.query(`EXPLAIN ${sql}`, [`[${queryVectors[0].join(",")}]`]);
      if (!first.rows.some((r) => String(r["QUERY PLAN"]).includes(indexName))) throw new Error("index not used");
      const ms: number[] = [];
      let recall = 0;
      for (const [qi, vector] of queryVectors.entries()) {
        t0 = performance.now();
        const { rows } = await client.query<{ id: string }>(sql, [`[${vector.join(",")}]`]);
        ms.push(performance.now() - t0);
        const exact = new Set(exactTop[qi]);
        recall += rows.filter((r) => exact.has(r.id)).length / K;
      }
      console.log(
        `  ${String(efSearch).padStart(9)} | ${(recall / queryVectors.length).toFixed(4).padStart(19)} | ${median(ms).toFixed(2)}`,
      );
    }
    await client.query("RESET enable_seqscan; RESET hnsw.ef_search; RESET hnsw.iterative_scan");
  } finally {
    await client.end();
  }
} finally {
  await postgres.stop();
  await embeddings.dispose();
}
