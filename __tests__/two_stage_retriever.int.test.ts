import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { ContextualCompressionRetriever } from "@langchain/classic/retrievers/contextual_compression";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import {
  CrossEncoderCompressor,
  FaissVectorStore,
  IndexError,
  InvalidArgumentError,
  TransformersEmbeddings,
  TwoStageRetriever,
} from "../src/index.js";
import { directoryOps } from "../src/recall/index_folder/atomic_directory.js";
import { type PgvectorStoreHandle, connectPgvectorStore } from "../src/recall/pgvector/pgvector_store.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";
import { type TestPostgres, startPostgres } from "./support/postgres.js";
import { RunRecorder } from "./support/run_recorder.js";

// Stage 1 (mean-pooled lexical embeddings) prefers short documents sharing one query term; stage 2 (the lexical
// cross-encoder) rewards covering all of them. TARGET therefore sits below the distractors in stage 1.
const QUERY = "glacier moraine erosion crevasse";
const DISTRACTORS = ["Glacier.", "Moraine.", "Erosion.", "Crevasse."];
const TARGET =
  "Field notes from the upper valley describe how the glacier left a moraine, how frost erosion shaped the walls, " +
  "and how a crevasse opened near the camp where the survey team measured snowfall, wind, temperature and light.";
const CORPUS = [...TEST_CORPUS, ...DISTRACTORS, TARGET];
const DOCS = CORPUS.map(
  (text, i) => new Document({ pageContent: text, metadata: { n: i, topic: i % 2 === 0 ? "even" : "odd" } }),
);

const models = buildTestModels(CORPUS);
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-retriever-"));

afterAll(async () => {
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
  models.cleanup();
  fs.rmSync(scratch, { recursive: true, force: true });
});

async function makeRetriever(
  extra: Partial<ConstructorParameters<typeof TwoStageRetriever>[0]> = {},
): Promise<TwoStageRetriever> {
  return TwoStageRetriever.fromDocuments(DOCS, { embeddings, compressor: reranker, recallK: 10, topK: 3, ...extra });
}

/** A stage 1 the retriever cases run on: the vector store over DOCS, and what it does with filters. */
interface Stage1Kind {
  name: string;
  open(): Promise<VectorStoreInterface>;
  close(): Promise<void>;
  /** Whether predicate filters are applied (else refused: SQL cannot take a JavaScript function). */
  predicateFilters: boolean;
}

let postgres: TestPostgres | undefined;
let pgHandle: PgvectorStoreHandle | undefined;
const STAGE1_KINDS: Stage1Kind[] = [
  {
    name: "FaissVectorStore",
    open: () => FaissVectorStore.fromDocuments(DOCS, embeddings),
    close: async () => undefined,
    predicateFilters: true,
  },
  {
    name: "PGVectorStore on Postgres + pgvector",
    async open() {
      postgres = await startPostgres();
      pgHandle = await connectPgvectorStore(embeddings, {
        connectionString: postgres.connectionString,
        tableName: postgres.tableName("retriever"),
        dimensions: (await embeddings.embedQuery("dimension")).length,
      });
      await pgHandle.store.addDocuments(DOCS);
      return pgHandle.store;
    },
    async close() {
      await pgHandle?.end();
      await postgres?.stop();
    },
    predicateFilters: false,
  },
];

describe.each(STAGE1_KINDS)("TwoStageRetriever on $name", ({ open, close, predicateFilters }) => {
  let store: VectorStoreInterface;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(() => close());
  const retrieverOn = (extra: Partial<ConstructorParameters<typeof TwoStageRetriever>[0]> = {}) =>
    new TwoStageRetriever({ stage1: store, compressor: reranker, recallK: 10, topK: 3, ...extra });

  test("stage 2 really reorders: the target is first although stage 1 ranked it below topK", async () => {
    const retriever = retrieverOn();
    const candidates = await retriever.recall(QUERY);
    const stage1Rank = candidates.findIndex((d) => d.pageContent === TARGET) + 1;
    expect(stage1Rank).toBeGreaterThan(retriever.topK);
    const docs = await retriever.invoke(QUERY);
    expect(docs).toHaveLength(3);
    expect(docs[0].pageContent).toBe(TARGET);
    expect(docs[0].metadata).toMatchObject({
      rerankRank: 1,
      recallRank: stage1Rank,
      reranked: true,
      n: CORPUS.length - 1,
    });
    expect(docs[0].metadata.relevanceScore).toBeGreaterThan(docs[1].metadata.relevanceScore!);
    expect(docs[0].metadata.recallScore).toBeGreaterThan(-1);
    expect(docs[0].metadata.recallScore).toBeLessThan(1);
    expect(retriever.lastTimings?.recallMs).toBeGreaterThanOrEqual(0);
  });

  test("recallScore is the cosine, higher is better (a distance store's score is converted)", async () => {
    const faiss = await FaissVectorStore.fromDocuments(DOCS, embeddings);
    const expected = await faiss.similaritySearchWithScore(QUERY, 10);
    const candidates = await retrieverOn().recall(QUERY);
    expect(candidates.map((d) => d.pageContent)).toEqual(expected.map(([d]) => d.pageContent));
    candidates.forEach((d, i) => expect(d.metadata.recallScore).toBeCloseTo(expected[i][1], 5));
  });

  test("equals ContextualCompressionRetriever(CrossEncoderCompressor, store.asRetriever(recallK)) on the same store", async () => {
    const retriever = retrieverOn();
    const reference = new ContextualCompressionRetriever({
      baseCompressor: new CrossEncoderCompressor({ model: models.crossEncoder, topN: 3 }),
      baseRetriever: retriever.vectorStore!.asRetriever(10),
    });
    for (const query of [QUERY, "honeybees waggle dance", "carbon dioxide climate"]) {
      const ours = await retriever.invoke(query);
      const theirs = await reference.invoke(query);
      expect(ours.map((d) => d.pageContent)).toEqual(theirs.map((d) => d.pageContent));
      ours.forEach((d, i) => expect(d.metadata.relevanceScore).toBeCloseTo(theirs[i].metadata.relevanceScore, 6));
    }
  });

  test("batch() of 3 queries answers each", async () => {
    const out = await retrieverOn().batch(["Eiffel Tower Paris 1889", "espresso coffee", "violin cello viola"]);
    expect(out.map((docs) => docs[0].metadata.n)).toEqual([0, 16, 23]);
  });

  test("a metadata-object filter is applied; a predicate is applied or refused, never ignored", async () => {
    const byObject = retrieverOn({ filter: { topic: "odd" } });
    const docs = await byObject.invoke("penguins huddle in the antarctic winter");
    expect(docs.length).toBe(3);
    expect(docs.every((d) => d.metadata.topic === "odd")).toBe(true);
    const byFunction = retrieverOn({ filter: (d: DocumentInterface) => d.metadata.n === 10 });
    if (predicateFilters) {
      const only = await byFunction.invoke("anything about the winter");
      expect(only.map((d) => d.metadata.n)).toEqual([10]);
    } else {
      await expect(byFunction.invoke("anything about the winter")).rejects.toThrow(/predicate cannot be translated/);
      const only = await retrieverOn({ filter: { n: 10 } }).invoke("anything about the winter");
      expect(only.map((d) => d.metadata.n)).toEqual([10]);
    }
  });

  test("explain shows every candidate with both ranks and marks exactly what invoke returns", async () => {
    const retriever = retrieverOn();
    const explanation = await retriever.explain(QUERY);
    expect(explanation.candidates.map((c) => c.recallRank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const target = explanation.candidates.find((c) => c.document.pageContent === TARGET)!;
    expect(target).toMatchObject({ rerankRank: 1, returned: true });
    expect(target.recallRank).toBeGreaterThan(3);
    const returned = explanation.candidates.filter((c) => c.returned).sort((a, b) => a.rerankRank! - b.rerankRank!);
    expect(returned.map((c) => c.document.pageContent)).toEqual(
      (await retriever.invoke(QUERY)).map((d) => d.pageContent),
    );
    expect(explanation.candidates.every((c, i, all) => i === 0 || c.recallScore <= all[i - 1].recallScore)).toBe(true);
  });

  test("stage 1 and stage 2 are child runs in callbacks and streamEvents", async () => {
    const retriever = retrieverOn();
    const recorder = new RunRecorder();
    const { names } = recorder;
    await retriever.invoke(QUERY, { callbacks: [recorder] });
    expect(names).toEqual(["recall", "rerank", "CrossEncoderCompressor"]);
    const events: string[] = [];
    for await (const event of retriever.streamEvents(QUERY, { version: "v2" })) {
      if (event.event === "on_chain_end") events.push(`${event.name}:${typeof event.data.output?.ms}`);
    }
    expect(events).toEqual(expect.arrayContaining(["recall:number", "rerank:number"]));
  });
});

describe("TwoStageRetriever on LangChain's FaissStore", () => {
  test("a filter is applied on FaissStore too (it ignores filters itself)", async () => {
    const store = await FaissStore.fromDocuments(DOCS, embeddings);
    const retriever = new TwoStageRetriever({
      vectorStore: store,
      compressor: reranker,
      recallK: 5,
      topK: 3,
      filter: { topic: "even" },
    });
    const docs = await retriever.invoke("honeybees waggle dance flowers");
    expect(docs.length).toBe(3);
    expect(docs.every((d) => d.metadata.topic === "even")).toBe(true);
    const unfiltered = new TwoStageRetriever({ vectorStore: store, compressor: reranker, recallK: 5, topK: 1 });
    const [best] = await unfiltered.invoke("honeybees waggle dance flowers");
    expect(best.metadata.n).toBe(13);
    expect(best.metadata.recallScore).toBeGreaterThan(0.3); // 1 - d/2: the cosine, not a raw squared distance
  });
});

describe("degradation", () => {
  class SlowCompressor extends BaseDocumentCompressor {
    async compressDocuments(docs: DocumentInterface[]): Promise<DocumentInterface[]> {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return [...docs].reverse();
    }
  }
  class BrokenCompressor extends BaseDocumentCompressor {
    async compressDocuments(): Promise<DocumentInterface[]> {
      throw new Error("model crashed");
    }
  }

  test("past rerankTimeoutMs, stage-1 order comes back marked reranked: false", async () => {
    const retriever = await makeRetriever({ compressor: new SlowCompressor(), rerankTimeoutMs: 20 });
    const stage1 = await retriever.recall(QUERY);
    const docs = await retriever.invoke(QUERY);
    expect(docs.map((d) => d.pageContent)).toEqual(stage1.slice(0, 3).map((d) => d.pageContent));
    expect(docs.every((d) => d.metadata.reranked === false)).toBe(true);
    expect(docs[0].metadata.rerankFallback).toMatch(/exceeded 20 ms/);
  });

  test("onRerankError: fallback returns stage-1 order; the default rethrows", async () => {
    const tolerant = await makeRetriever({ compressor: new BrokenCompressor(), onRerankError: "fallback" });
    const docs = await tolerant.invoke(QUERY);
    expect(docs).toHaveLength(3);
    expect(docs[0].metadata).toMatchObject({ reranked: false, rerankFallback: "rerank failed: model crashed" });
    const strict = await makeRetriever({ compressor: new BrokenCompressor() });
    await expect(strict.invoke(QUERY)).rejects.toThrow("model crashed");
  });
});

describe("FAISS stage 1: persistence and validation", () => {
  test("round trip with FaissStore's format, both ways", async () => {
    const ours = await FaissVectorStore.fromDocuments(DOCS, embeddings);
    const oursDir = path.join(scratch, "ours");
    await ours.save(oursDir);
    const asFaissStore = await FaissStore.load(oursDir, embeddings);
    const [[viaTheirs]] = await asFaissStore.similaritySearchWithScore("honeybees waggle dance", 1);
    expect(viaTheirs.pageContent).toBe(CORPUS[13]);

    const theirs = await FaissStore.fromDocuments(DOCS, embeddings);
    const theirsDir = path.join(scratch, "theirs");
    await theirs.save(theirsDir);
    const loaded = await FaissVectorStore.load(theirsDir, embeddings);
    expect(loaded.size).toBe(DOCS.length);
    const [[doc, cosine]] = await loaded.similaritySearchWithScore("honeybees waggle dance", 1);
    expect(doc.pageContent).toBe(CORPUS[13]);
    const [[, ourCosine]] = await ours.similaritySearchWithScore("honeybees waggle dance", 1);
    expect(cosine).toBeCloseTo(ourCosine, 5); // the L2 index was converted: scores are cosines again

    const retriever = await TwoStageRetriever.load(oursDir, { embeddings, compressor: reranker, recallK: 10, topK: 2 });
    expect((await retriever.invoke(QUERY))[0].pageContent).toBe(TARGET);
  });

  test("an interrupted save (the rename fails) leaves the previous index loadable", async () => {
    const dir = path.join(scratch, "atomic");
    const small = await FaissVectorStore.fromDocuments(DOCS.slice(0, 5), embeddings);
    await small.save(dir);
    const bigger = await FaissVectorStore.fromDocuments(DOCS, embeddings);
    const realRename = directoryOps.rename;
    let calls = 0;
    directoryOps.rename = (from, to) => {
      calls += 1;
      if (calls === 2) throw new Error("simulated crash during rename");
      realRename(from, to);
    };
    try {
      await expect(bigger.save(dir)).rejects.toThrow(IndexError);
    } finally {
      directoryOps.rename = realRename;
    }
    const reloaded = await FaissVectorStore.load(dir, embeddings);
    expect(reloaded.size).toBe(5);
    expect(fs.readdirSync(scratch).filter((name) => name.startsWith("atomic."))).toEqual([]);
    await bigger.save(dir);
    expect((await FaissVectorStore.load(dir, embeddings)).size).toBe(DOCS.length);
  });

  test("every validation raises a typed error and the process survives", async () => {
    expect(
      () => new TwoStageRetriever({ vectorStore: new FaissVectorStore(embeddings), topK: 20, recallK: 10 }),
    ).toThrow(/topK \(20\) must not exceed recallK \(10\)/);
    expect(() => new TwoStageRetriever({ vectorStore: new FaissVectorStore(embeddings), recallK: 0 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new TwoStageRetriever({ vectorStore: new FaissVectorStore(embeddings), topK: 2.5 })).toThrow(
      /topK must be a positive integer/,
    );

    const store = new FaissVectorStore(embeddings);
    expect(await store.similaritySearchVectorWithScore(new Array(384).fill(0.1), 5)).toEqual([]); // empty index
    await store.addVectors(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      [new Document({ pageContent: "a" }), new Document({ pageContent: "b" })],
      { ids: ["a", "b"] },
    );
    await expect(store.addVectors([[1, 0]], [new Document({ pageContent: "c" })])).rejects.toThrow(
      /dimension 2, but the index holds dimension 3/,
    );
    await expect(store.addVectors([[0, 0, 1]], [new Document({ pageContent: "dup" })], { ids: ["a"] })).rejects.toThrow(
      InvalidArgumentError, // a bad argument, not a corrupt index
    );
    expect(store.size).toBe(2); // nothing was added by the refused calls
    await expect(store.similaritySearchVectorWithScore([1, 0], 1)).rejects.toThrow(/query vector has dimension 2/);
    await expect(store.addVectors([[0, 0, 0]], [new Document({ pageContent: "zero" })])).rejects.toThrow(/all zeros/);
    const all = await store.similaritySearchVectorWithScore([1, 0.1, 0], 50); // k > size: every document, no abort
    expect(all.map(([d]) => d.pageContent)).toEqual(["a", "b"]);
    await expect(FaissVectorStore.load(path.join(scratch, "missing"), embeddings)).rejects.toThrow(/is missing/);
    await expect(new FaissVectorStore(embeddings).save(path.join(scratch, "empty"))).rejects.toThrow(/Nothing to save/);
    const nested = path.join(scratch, "new", "deeper", "index"); // faiss aborts writing into a missing folder
    await store.save(nested);
    expect((await FaissVectorStore.load(nested, embeddings)).size).toBe(2);
  });
});

describe("stage 1 kinds built by the factories", () => {
  test("bm25: no embeddings are created; recallScore is the BM25 score; stage 2 still reorders", async () => {
    const retriever = await TwoStageRetriever.fromDocuments(DOCS, {
      stage1Kind: "bm25",
      compressor: reranker,
      recallK: 10,
      topK: 3,
    });
    expect(retriever.source.name).toBe("bm25");
    expect(retriever.vectorStore).toBeUndefined();
    const candidates = await retriever.recall(QUERY);
    expect(candidates.length).toBeGreaterThan(3);
    expect(candidates[0].metadata.recallScore).toBeGreaterThan(1); // a BM25 score, not a cosine
    const docs = await retriever.invoke(QUERY);
    expect(docs[0].pageContent).toBe(TARGET);
  });

  test("hybrid: each candidate keeps its dense and BM25 ranks; explain shows them; fused by RRF (dense weight 1, BM25 1)", async () => {
    const retriever = await TwoStageRetriever.fromDocuments(DOCS, {
      stage1Kind: "hybrid",
      embeddings,
      compressor: reranker,
      recallK: 10,
      topK: 3,
    });
    expect(retriever.source.name).toBe("hybrid");
    const { candidates, documents } = await retriever.explain(QUERY);
    const target = candidates.find((c) => c.document.pageContent === TARGET)!;
    expect(target.document.metadata.bm25Rank).toBeGreaterThanOrEqual(1);
    expect(target.document.metadata.denseRank).toBeGreaterThanOrEqual(1);
    const { denseRank, bm25Rank } = target.document.metadata as { denseRank?: number; bm25Rank?: number };
    const expected = (denseRank ? 1 / (60 + denseRank) : 0) + (bm25Rank ? 1 / (60 + bm25Rank) : 0); // the default weights
    expect(target.recallScore).toBeCloseTo(expected, 12);
    expect(documents[0].pageContent).toBe(TARGET);
    expect(documents[0].metadata.bm25Rank).toBe(target.document.metadata.bm25Rank);
  });

  test("an unknown stage1Kind is refused by name", async () => {
    await expect(TwoStageRetriever.fromDocuments(DOCS, { stage1Kind: "sparse" as "bm25" })).rejects.toThrow(
      /Unknown stage 1 'sparse'. Expected one of: dense, bm25, hybrid/,
    );
  });
});

describe("save and load through the manifest", () => {
  test("a hybrid retriever saves both parts in one folder and loads back as built, with the recorded model", async () => {
    const built = await TwoStageRetriever.fromDocuments(DOCS, {
      stage1Kind: "hybrid",
      embeddings,
      compressor: reranker,
      recallK: 10,
      topK: 3,
    });
    const dir = path.join(scratch, "hybrid-index");
    await built.save(dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8"));
    expect(manifest).toMatchObject({ stage1: "hybrid", embeddingModel: models.biEncoder, dim: 384 });
    expect(manifest.embeddingProfile).toMatchObject({ pooling: "mean", queryPrefix: "", documentPrefix: "" });
    // No embeddings passed: load makes them from the manifest (model and profile).
    const loaded = await TwoStageRetriever.load(dir, { compressor: reranker, recallK: 10, topK: 3 });
    expect(loaded.stage1Kind).toBe("hybrid");
    const [a, b] = [await built.recall(QUERY), await loaded.recall(QUERY)];
    expect(b.map((d) => d.metadata.n)).toEqual(a.map((d) => d.metadata.n));
    b.forEach((d, i) => expect(d.metadata.recallScore).toBeCloseTo(a[i].metadata.recallScore as number, 9));
    expect((await loaded.invoke(QUERY))[0].pageContent).toBe(TARGET);
    await loaded.dispose();
    await expect(TwoStageRetriever.load(dir, { compressor: reranker, stage1Kind: "bm25" })).rejects.toThrow(
      /holds a hybrid stage 1, not bm25/,
    );
  });

  test("embeddings whose dimension differs from the index are refused at load, not at the first query", async () => {
    const dir = path.join(scratch, "dense-index");
    await (await TwoStageRetriever.fromDocuments(DOCS, { embeddings, compressor: reranker })).save(dir);
    const narrow = { embedQuery: async () => [1, 0, 0], embedDocuments: async (t: string[]) => t.map(() => [1, 0, 0]) };
    await expect(
      TwoStageRetriever.load(dir, { embeddings: narrow as unknown as TransformersEmbeddings, compressor: reranker }),
    ).rejects.toThrow(/holds vectors of dimension 384 \(built with .*\), but these embeddings give 3/);
  });

  test("a bm25 retriever saves and loads without any embeddings", async () => {
    const dir = path.join(scratch, "bm25-index");
    const built = await TwoStageRetriever.fromDocuments(DOCS, {
      stage1Kind: "bm25",
      compressor: reranker,
      recallK: 10,
    });
    await built.save(dir);
    const loaded = await TwoStageRetriever.load(dir, { compressor: reranker, recallK: 10 });
    expect(loaded.stage1Kind).toBe("bm25");
    expect(loaded.vectorStore).toBeUndefined();
    expect((await loaded.recall(QUERY)).map((d) => d.metadata.n)).toEqual(
      (await built.recall(QUERY)).map((d) => d.metadata.n),
    );
  });
});
