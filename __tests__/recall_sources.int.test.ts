import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";

import { connectPgvectorStore, type PgvectorStoreHandle } from "../src/recall/pgvector/pgvector_store.js";
import { createHnswIndex } from "../src/recall/pgvector/pgvector_hnsw.js";
import {
  Bm25Index,
  FaissVectorStore,
  InvalidArgumentError,
  type RecallSource,
  RetrieverSource,
  TransformersEmbeddings,
  VectorStoreSource,
  toRecallSource,
} from "../src/index.js";
import { buildStage1 } from "../src/recall/build_stage1.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";
import { type TestPostgres, startPostgres } from "./support/postgres.js";

// One contract, every stage-1 adapter: what TwoStageRetriever relies on from a RecallSource.
const DOCS = TEST_CORPUS.map(
  (text, i) => new Document({ pageContent: text, id: `d${i}`, metadata: { n: i, topic: i % 3 === 0 ? "a" : "b" } }),
);
const QUERIES = ["honeybees waggle dance flowers", "carbon dioxide climate", "Eiffel Tower Paris", "winter penguins"];

const models = buildTestModels();
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
// A real Postgres + pgvector (PGlite over the wire protocol, or DATABASE_URL), started and stopped here.
let postgres: TestPostgres;
const pgStores: PgvectorStoreHandle[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  for (const handle of pgStores) await handle.end();
  await postgres?.stop();
  await embeddings.dispose();
  models.cleanup();
});

/** PGVectorStore (pg client → Postgres) over DOCS; with an HNSW index when `efSearch` is given. */
async function pgvector(efSearch?: number): Promise<RecallSource> {
  const dimensions = (await embeddings.embedQuery("dimension")).length;
  const handle = await connectPgvectorStore(embeddings, {
    connectionString: postgres.connectionString,
    tableName: postgres.tableName(efSearch ? "hnsw" : "exact"),
    dimensions,
    efSearch,
  });
  pgStores.push(handle);
  await handle.store.addDocuments(DOCS);
  if (efSearch) await createHnswIndex(handle.store);
  return toRecallSource(handle.store);
}

interface Adapter {
  name: string;
  make(): Promise<RecallSource>;
  /** Whether it ranks by exact cosine (the dense adapters); `scores` says whether its scores are those cosines. */
  dense: boolean;
  /** Whether scores are cosines comparable across adapters. */
  cosine: boolean;
  /** Which filters are applied: both forms, metadata objects only (predicates refused), or none (all refused). */
  filters: "all" | "object" | "none";
  /** Whether every document is a candidate for any query (lexical sources return only documents sharing a term). */
  exhaustive: boolean;
}

const IDS = DOCS.map((doc) => doc.id!);

const ADAPTERS: Adapter[] = [
  {
    name: "FaissVectorStore",
    make: async () => toRecallSource(await FaissVectorStore.fromDocuments(DOCS, embeddings)),
    dense: true,
    cosine: true,
    filters: "all",
    exhaustive: true,
  },
  {
    name: "LangChain FaissStore (squared L2, ignores filters itself)",
    make: async () => toRecallSource(await FaissStore.fromDocuments(DOCS, embeddings)),
    dense: true,
    cosine: true,
    filters: "all",
    exhaustive: true,
  },
  {
    name: "LangChain MemoryVectorStore (predicate filters)",
    make: async () => toRecallSource(await MemoryVectorStore.fromDocuments(DOCS, embeddings)),
    dense: true,
    cosine: true,
    filters: "all",
    exhaustive: true,
  },
  {
    name: "LangChain PGVectorStore on Postgres + pgvector (cosine distance, SQL filters), exact search",
    make: () => pgvector(),
    dense: true,
    cosine: true,
    filters: "object",
    exhaustive: true,
  },
  {
    name: "LangChain PGVectorStore with an HNSW index (m 16, ef_construction 64, ef_search 40)",
    make: () => pgvector(40),
    dense: true,
    cosine: true,
    filters: "object",
    exhaustive: true,
  },
  {
    name: "a LangChain retriever",
    make: async () =>
      new RetrieverSource((await MemoryVectorStore.fromDocuments(DOCS, embeddings)).asRetriever(DOCS.length)),
    dense: true,
    cosine: false,
    filters: "none",
    exhaustive: true,
  },
  {
    name: "Bm25Index",
    make: async () => Bm25Index.fromDocuments(DOCS, {}, { ids: IDS }),
    dense: false,
    cosine: false,
    filters: "all",
    exhaustive: false,
  },
  {
    name: "HybridSource (dense + BM25, RRF)",
    make: async () => (await buildStage1("hybrid", DOCS, { embeddings }, IDS)).source,
    dense: false,
    cosine: false,
    filters: "all",
    exhaustive: true,
  },
];

let reference: RecallSource;
beforeAll(async () => {
  reference = new VectorStoreSource(await FaissVectorStore.fromDocuments(DOCS, embeddings));
});

describe.each(ADAPTERS)("RecallSource contract: $name", ({ make, dense, cosine, filters, exhaustive }) => {
  let source: RecallSource;
  beforeAll(async () => {
    source = await make();
  });

  test("returns at most k candidates, best first, with finite scores; k past the size returns everything", async () => {
    for (const query of QUERIES) {
      const matching = exhaustive ? DOCS.length : (await source.recall(query, 1000)).length;
      expect(matching).toBeGreaterThan(0);
      for (const k of [1, 3, 10]) {
        const found = await source.recall(query, k);
        expect(found.length).toBe(Math.min(k, matching));
        found.forEach((c) => expect(Number.isFinite(c.score)).toBe(true));
        for (let i = 1; i < found.length; i++) expect(found[i].score).toBeLessThanOrEqual(found[i - 1].score);
      }
    }
    if (exhaustive) expect(await source.recall(QUERIES[0], 500)).toHaveLength(DOCS.length);
  });

  test("dense adapters rank as exact cosine search does (scores converted where the store reports distances)", async () => {
    if (!dense) return;
    for (const query of QUERIES) {
      const ours = await source.recall(query, 5);
      const exact = await reference.recall(query, 5);
      expect(ours.map((c) => c.document.pageContent)).toEqual(exact.map((c) => c.document.pageContent));
      if (cosine) ours.forEach((c, i) => expect(c.score).toBeCloseTo(exact[i].score, 5));
    }
  });

  test("candidates are new objects: changing one does not change the source", async () => {
    const [first] = await source.recall(QUERIES[0], 1);
    first.document.metadata.n = -1;
    first.document.pageContent = "changed";
    const [again] = await source.recall(QUERIES[0], 1);
    expect(again.document.pageContent).not.toBe("changed");
    expect(again.document.metadata.n).not.toBe(-1);
  });

  test("a filter (metadata object or predicate) is applied, or refused with a clear error — never ignored", async () => {
    const byObject = () => source.recall("carbon dioxide climate", 4, { topic: "a" });
    const byPredicate = () => source.recall("carbon dioxide climate", 2, (d: DocumentInterface) => d.metadata.n === 14);
    if (filters === "none") {
      await expect(byObject()).rejects.toThrow(InvalidArgumentError);
      await expect(byPredicate()).rejects.toThrow(/configure the filter on that retriever/);
      return;
    }
    const found = await byObject();
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((c) => c.document.metadata.topic === "a")).toBe(true);
    // The filtered top-4 is the unfiltered ranking's first 4 passing documents (the window widened as needed).
    const all = (await source.recall("carbon dioxide climate", DOCS.length)).filter(
      (c) => c.document.metadata.topic === "a",
    );
    expect(found.map((c) => c.document.metadata.n)).toEqual(all.slice(0, 4).map((c) => c.document.metadata.n));
    if (exhaustive) expect(found).toHaveLength(4);
    if (filters === "object") {
      await expect(byPredicate()).rejects.toThrow(/predicate cannot be translated/);
      expect((await source.recall("anything", 3, { n: 14 })).map((c) => c.document.metadata.n)).toEqual([14]);
    } else {
      expect((await byPredicate()).map((c) => c.document.metadata.n)).toEqual([14]);
    }
  });
});

describe("adapters", () => {
  test("toRecallSource keeps a RecallSource as it is and refuses anything else by name", () => {
    expect(toRecallSource(reference)).toBe(reference);
    expect(() => toRecallSource({} as never)).toThrow(/stage1 must be a RecallSource, a LangChain vector store/);
  });

  test("a store with an object-only filter refuses a predicate instead of ignoring it", async () => {
    const store = await MemoryVectorStore.fromDocuments(DOCS.slice(0, 4), embeddings);
    const source = new VectorStoreSource(store, { convention: { score: "similarity", filter: "object" } });
    await expect(source.recall("q", 2, () => true)).rejects.toThrow(/predicate cannot be translated/);
  });
});
