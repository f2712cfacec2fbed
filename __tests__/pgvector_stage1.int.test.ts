import type { DistanceStrategy } from "@langchain/community/vectorstores/pgvector";
import { Document } from "@langchain/core/documents";

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  CrossEncoderCompressor,
  FaissVectorStore,
  InvalidArgumentError,
  TransformersEmbeddings,
  TwoStageRetriever,
  VectorStoreSource,
  documentText,
  evaluate,
  loadBeirDataset,
} from "../src/index.js";
import { randomUnitVectors } from "../src/testing/index.js";
import { pgvectorFilter } from "../src/recall/pgvector/pgvector_convention.js";
import { bulkInsertPgvector } from "../src/recall/pgvector/pgvector_bulk_insert.js";
import { createHnswIndex } from "../src/recall/pgvector/pgvector_hnsw.js";
import {
  type PgvectorStoreHandle,
  connectPgvectorStore,
  versionAtLeast,
} from "../src/recall/pgvector/pgvector_store.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { buildTestModels } from "./support/models.js";
import { type TestPostgres, startPostgres } from "./support/postgres.js";

// What differs between FAISS and pgvector, one difference per test: score direction and scale per distance
// strategy, filter syntax, session settings and the HNSW index.
const DOCS = TEST_CORPUS.map(
  (text, i) => new Document({ pageContent: text, metadata: { n: i, topic: i % 2 ? "x" : "y" } }),
);
const QUERY = "honeybees waggle dance flowers";

const models = buildTestModels();
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
let postgres: TestPostgres;
let dimensions: number;
const handles: PgvectorStoreHandle[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  dimensions = (await embeddings.embedQuery("dimension")).length;
});
afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.end();
});
afterAll(async () => {
  await postgres?.stop();
  await embeddings.dispose();
  models.cleanup();
});

async function open(params: Partial<Parameters<typeof connectPgvectorStore>[1]> = {}): Promise<PgvectorStoreHandle> {
  const handle = await connectPgvectorStore(embeddings, {
    connectionString: postgres.connectionString,
    tableName: postgres.tableName("unit"),
    dimensions,
    ...params,
  });
  handles.push(handle);
  return handle;
}

describe("PGVectorStore scores", () => {
  test.each<[DistanceStrategy, "distance" | "similarity"]>([
    ["cosine", "distance"],
    ["cosine", "similarity"],
    ["innerProduct", "distance"],
    ["innerProduct", "similarity"],
    ["euclidean", "distance"],
    ["euclidean", "similarity"],
  ])("%s strategy, %s normalisation: recallScore is FAISS's cosine", async (distanceStrategy, scoreNormalization) => {
    const { store } = await open({ distanceStrategy });
    store.scoreNormalization = scoreNormalization;
    await store.addDocuments(DOCS);
    const raw = await store.similaritySearchWithScore(QUERY, 5);
    const ours = await new VectorStoreSource(store).recall(QUERY, 5);
    const exact = await (await FaissVectorStore.fromDocuments(DOCS, embeddings)).similaritySearchWithScore(QUERY, 5);
    expect(ours.map((c) => c.document.pageContent)).toEqual(exact.map(([d]) => d.pageContent));
    ours.forEach((c, i) => expect(c.score).toBeCloseTo(exact[i][1], 5));
    expect(ours[0].score).toBeGreaterThan(ours[4].score); // higher is better, whatever the store reported
    if (scoreNormalization === "distance" && distanceStrategy !== "innerProduct") {
      expect(raw[0][1]).toBeLessThan(raw[4][1]); // the store itself reports lower-is-better
    }
  });

  test("an unknown distanceStrategy is refused by name", async () => {
    const { store } = await open();
    store.distanceStrategy = "manhattan" as DistanceStrategy;
    expect(() => new VectorStoreSource(store)).toThrow(/distanceStrategy the string "manhattan"/);
  });
});

describe("PGVectorStore filters", () => {
  test("the package's metadata object becomes SQL equality; what SQL would read differently is refused", () => {
    expect(pgvectorFilter({ topic: "x", n: 3, ok: true })).toEqual({ topic: "x", n: 3, ok: true });
    expect(() => pgvectorFilter({ n: { in: [1, 2] } })).toThrow(/filter field 'n' must equal a string/);
    expect(() => pgvectorFilter({ n: null })).toThrow(InvalidArgumentError);
    expect(() => pgvectorFilter({ n: [1] })).toThrow(/got an array/);
    expect(() => pgvectorFilter({ n: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => pgvectorFilter({ "a' OR '1'='1": "x" })).toThrow(/contains a quote/);
  });

  test("a filter runs in SQL: k matching rows come back, however rare the match", async () => {
    const { store } = await open();
    await store.addDocuments(DOCS);
    const source = new VectorStoreSource(store);
    const found = await source.recall(QUERY, 3, { topic: "x" });
    expect(found).toHaveLength(3);
    expect(found.every((c) => c.document.metadata.topic === "x")).toBe(true);
    expect((await source.recall(QUERY, 5, { n: 7 })).map((c) => c.document.metadata.n)).toEqual([7]);
    await expect(source.recall(QUERY, 3, { n: { gte: 3 } })).rejects.toThrow(/convention with filter 'native'/);
    // PGVectorStore's own operators stay reachable for those who ask for them.
    const native = new VectorStoreSource(store, { convention: { score: "cosineDistance", filter: "native" } });
    expect((await native.recall(QUERY, 30, { n: { gte: 20 } })).every((c) => c.document.metadata.n >= 20)).toBe(true);
  });
});

describe("bulk load", () => {
  test("bulkInsertPgvector writes the rows addVectors writes, in one transaction (a failing batch writes nothing)", async () => {
    const vectors = await embeddings.embedDocuments(DOCS.map((d) => d.pageContent));
    const viaStore = await open();
    await viaStore.store.addVectors(vectors, DOCS);
    const bulk = await open();
    expect(await bulkInsertPgvector(bulk.store, vectors, DOCS, { batchSize: 7 })).toBe(DOCS.length);
    const a = await new VectorStoreSource(viaStore.store).recall(QUERY, DOCS.length);
    const b = await new VectorStoreSource(bulk.store).recall(QUERY, DOCS.length);
    expect(b.map((c) => [c.document.pageContent, c.document.metadata])).toEqual(
      a.map((c) => [c.document.pageContent, c.document.metadata]),
    );
    b.forEach((c, i) => expect(c.score).toBeCloseTo(a[i].score, 6));
    const broken = [...vectors.slice(0, 10), [1, 2, 3]]; // the last batch has a wrong dimension
    await expect(bulkInsertPgvector(bulk.store, broken, DOCS.slice(0, 11), { batchSize: 5 })).rejects.toThrow();
    const { rows } = await bulk.store.pool.query(`SELECT count(*)::int AS n FROM ${bulk.store.tableName}`);
    expect(rows[0].n).toBe(DOCS.length);
    await expect(bulkInsertPgvector(bulk.store, vectors, DOCS.slice(1))).rejects.toThrow(/one document per vector/);
  });
});

describe("HNSW and session settings", () => {
  test("ef_search and iterative scan are set on every pooled connection; the HNSW index serves the query", async () => {
    const { store, pgvectorVersion } = await open({ efSearch: 123, maxConnections: 3 });
    await store.addDocuments(DOCS);
    const name = await createHnswIndex(store, { m: 16, efConstruction: 64 });
    expect(await createHnswIndex(store)).toBe(name); // idempotent
    const clients = await Promise.all([store.pool.connect(), store.pool.connect()]);
    try {
      for (const client of clients) {
        const { rows } = await client.query("SELECT current_setting('hnsw.ef_search') AS ef");
        expect(rows[0].ef).toBe("123");
        if (versionAtLeast(pgvectorVersion, [0, 8])) {
          const scan = await client.query("SELECT current_setting('hnsw.iterative_scan') AS scan");
          expect(scan.rows[0].scan).toBe("strict_order");
        }
      }
      const vector = `[${(await embeddings.embedQuery(QUERY)).join(",")}]`;
      await clients[0].query("SET enable_seqscan = off"); // tiny table: make the planner show it can use the index
      const plan = await clients[0].query(
        `EXPLAIN SELECT * FROM ${store.tableName} ORDER BY embedding <=> $1 LIMIT 5`,
        [vector],
      );
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain(name);
      await clients[0].query("RESET enable_seqscan");
    } finally {
      clients.forEach((client) => client.release());
    }
  });

  test("bad settings are refused before any connection", async () => {
    const base = { connectionString: "postgres://nobody@127.0.0.1:1/none", dimensions: 8 };
    await expect(connectPgvectorStore(embeddings, { ...base, tableName: "docs; DROP TABLE x" })).rejects.toThrow(
      /not a plain SQL identifier/,
    );
    await expect(connectPgvectorStore(embeddings, { ...base, efSearch: 0 })).rejects.toThrow(/efSearch/);
    await expect(connectPgvectorStore(embeddings, { ...base, maxConnections: 1 })).rejects.toThrow(/at least 2/);
    await expect(connectPgvectorStore(embeddings, { dimensions: 8 })).rejects.toThrow(/connectionString/);
    await expect(connectPgvectorStore(embeddings, base)).rejects.toThrow(/Could not connect and enable pgvector/);
  });
});

describe("approximate stage 1 made visible", () => {
  test("evaluate({ exactStage1 }) reports ANN recall: near 1 at ef_search 40, at most 1/k when ef_search starves the index, 1 for exact search", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-ann-"));
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
    try {
      writeTestDataset(dir);
      const dataset = loadBeirDataset(dir);
      const docs = dataset.corpus.map((d) => new Document({ pageContent: documentText(d), metadata: { docId: d.id } }));
      // Filler rows (random unit vectors, far from every query) make the table big enough for the planner to use
      // the HNSW index rather than scanning.
      const flat = randomUnitVectors(2000, dimensions, 7);
      const fillers = Array.from({ length: 2000 }, (_, i) =>
        Array.from(flat.subarray(i * dimensions, (i + 1) * dimensions)),
      );
      const fillerDocs = fillers.map(
        (_, i) => new Document({ pageContent: `filler ${i}`, metadata: { docId: `f${i}` } }),
      );
      const faiss = await FaissVectorStore.fromDocuments(docs, embeddings);
      await faiss.addVectors(fillers, fillerDocs);
      const exactStage1 = new VectorStoreSource(faiss);
      const annRecallWith = async (efSearch: number, iterativeScan: "strict_order" | "off") => {
        const { store, end } = await open({ efSearch, iterativeScan });
        try {
          await store.addDocuments(docs);
          await store.addVectors(fillers, fillerDocs);
          await createHnswIndex(store);
          const retriever = new TwoStageRetriever({ stage1: store, compressor: reranker, recallK: 5, topK: 3 });
          const report = await evaluate(retriever, dataset, { recallKs: [3, 5], topK: 3, exactStage1 });
          return report.results.map((r) => r.annRecall!);
        } finally {
          await end();
        }
      };
      // HNSW misses a little of the exact top-k (here mostly near-zero-cosine filler rows in the tail).
      const approximate = await annRecallWith(40, "strict_order");
      approximate.forEach((r) => expect(r).toBeGreaterThan(0.8));
      // ef_search 1 without iterative scan: the index returns at most one row per query.
      const starved = await annRecallWith(1, "off");
      starved.forEach((r) => expect(r).toBeLessThanOrEqual(1 / 3 + 1e-9));
      // The exact search against itself: exactly 1; without exactStage1: not reported.
      const exactRetriever = new TwoStageRetriever({ stage1: exactStage1, compressor: reranker, recallK: 5, topK: 3 });
      const self = await evaluate(exactRetriever, dataset, { recallKs: [3, 5], topK: 3, exactStage1 });
      expect(self.results.map((r) => r.annRecall)).toEqual([1, 1]);
      const plain = await evaluate(exactRetriever, dataset, { recallKs: [5], topK: 3 });
      expect(plain.results[0].annRecall).toBeUndefined();
    } finally {
      await reranker.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
