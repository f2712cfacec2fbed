// Indexes you can update: delete(ids) and upsert-by-id on FaissVectorStore and Bm25Index, a hybrid kept in step,
// and the retriever's addDocuments/delete — each checked against an index built fresh from the same documents.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { Bm25Index, FaissVectorStore, InvalidArgumentError, TwoStageRetriever } from "../src/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { randomUnitVectors } from "./support/random.js";
import { HASH_EMBEDDINGS } from "./support/update_store.js";
import { NO_EMBEDDINGS } from "./support/vector_stores.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-updates-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const DIM = 8;
const COUNT = 12;
const VECTORS = randomUnitVectors(COUNT, DIM, 5);
const row = (i: number) => Array.from(VECTORS.subarray(i * DIM, (i + 1) * DIM));
const DOCS = Array.from({ length: COUNT }, (_, i) => new Document({ pageContent: `text ${i}`, metadata: { n: i } }));
const IDS = DOCS.map((_, i) => `doc-${i}`);

/** A store of the documents numbered `keep`, in that order. */
function storeOf(keep: number[]): FaissVectorStore {
  const store = new FaissVectorStore(NO_EMBEDDINGS);
  const flat = new Float32Array(keep.length * DIM);
  keep.forEach((i, j) => flat.set(row(i), j * DIM));
  store.addFlatVectors(
    flat,
    DIM,
    keep.map((i) => DOCS[i]),
    keep.map((i) => IDS[i]),
  );
  return store;
}

/** Every document's ranking for every stored vector as a query: what a store answers, in full. */
async function answers(store: FaissVectorStore): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < COUNT; i++) {
    const hits = await store.similaritySearchVectorWithScore(row(i), COUNT);
    out.push(hits.map(([doc, score]) => `${doc.id}:${doc.pageContent}:${score.toFixed(5)}`));
  }
  return out;
}

describe("FaissVectorStore: delete and upsert", () => {
  test("delete({ ids }) answers exactly as a store built without those documents, also after save and load", async () => {
    const store = storeOf([...Array(COUNT).keys()]);
    await store.delete({ ids: ["doc-3", "doc-0", "doc-11", "doc-3"] });
    const kept = [1, 2, 4, 5, 6, 7, 8, 9, 10];
    expect(store.size).toBe(9);
    expect(store.faissIndex?.ntotal()).toBe(9);
    expect(store.ids()).toEqual(kept.map((i) => IDS[i]));
    expect(store.has("doc-3")).toBe(false);
    expect(await answers(store)).toEqual(await answers(storeOf(kept)));
    const dir = path.join(scratch, "faiss-deleted");
    await store.save(dir);
    expect(await answers(await FaissVectorStore.load(dir, NO_EMBEDDINGS))).toEqual(await answers(storeOf(kept)));
  });

  test("an unknown id, a bad argument, or no argument is refused and nothing changes", async () => {
    const store = storeOf([...Array(COUNT).keys()]);
    const before = await answers(store);
    await expect(store.delete({ ids: ["doc-1", "nope"] })).rejects.toThrow(
      "1 of the ids to delete is not in the store ('nope'); nothing was deleted.",
    );
    await expect(store.delete({ ids: [""] })).rejects.toThrow(InvalidArgumentError);
    await expect(store.delete({ ids: "doc-1" as unknown as string[] })).rejects.toThrow(InvalidArgumentError);
    await expect(store.delete()).rejects.toThrow("delete takes { ids: string[] }; got no argument.");
    expect(await answers(store)).toEqual(before);
    await store.delete({ ids: [] });
    expect(store.size).toBe(COUNT);
  });

  test("upsert replaces a document and its vector; without upsert a taken id is refused with the way out", async () => {
    const store = storeOf([...Array(COUNT).keys()]);
    const replacement = new Document({ pageContent: "text 4, second edition", metadata: { n: 40 } });
    expect(() => store.addFlatVectors(Float32Array.from(row(9)), DIM, [replacement], ["doc-4"])).toThrow(
      "Document id 'doc-4' is already in the store. Ids must be unique: pass another id, or replace the stored " +
        "document with addDocuments(documents, { ids, upsert: true }) (or delete({ ids: ['doc-4'] }) first).",
    );
    expect(store.size).toBe(COUNT);
    // doc-4 gets doc-9's vector: a store of the other eleven plus doc-4-with-that-vector, added last.
    store.addFlatVectors(Float32Array.from(row(9)), DIM, [replacement], ["doc-4"], { upsert: true });
    expect(store.size).toBe(COUNT);
    expect(store.ids().at(-1)).toBe("doc-4");
    const [[best, score]] = await store.similaritySearchVectorWithScore(row(4), 1);
    expect(best.id).not.toBe("doc-4"); // its old vector is gone
    const hits = await store.similaritySearchVectorWithScore(row(9), 2);
    expect(hits.map(([doc]) => doc.id).sort()).toEqual(["doc-4", "doc-9"]);
    expect(hits[0][1]).toBeCloseTo(1, 5);
    expect(hits[1][1]).toBeCloseTo(1, 5);
    expect(score).toBeLessThan(0.999);
    expect(hits.find(([doc]) => doc.id === "doc-4")![0].pageContent).toBe("text 4, second edition");
  });
});

describe("Bm25Index: delete and upsert", () => {
  const docs = TEST_CORPUS.map((text, i) => new Document({ pageContent: text, id: `c${i}` }));
  const queries = ["the tower in Paris", "water and carbon", "storm larger than the Earth", "war treaty 1648"];
  const ranking = (index: Bm25Index) =>
    Promise.all(
      queries.map(async (q) =>
        (await index.recall(q, 30)).map((c) => `${c.document.id}:${c.score.toFixed(9)}:${c.document.pageContent}`),
      ),
    );

  test("delete({ ids }) scores exactly as an index built without those documents (N, avgdl, df recomputed)", async () => {
    const index = await Bm25Index.fromDocuments(docs);
    await index.delete({ ids: ["c0", "c9", "c11"] });
    const fresh = await Bm25Index.fromDocuments(docs.filter((d) => !["c0", "c9", "c11"].includes(d.id!)));
    expect(index.size).toBe(docs.length - 3);
    expect(await ranking(index)).toEqual(await ranking(fresh));
    const dir = path.join(scratch, "bm25-deleted");
    await index.save(dir);
    expect(await ranking(await Bm25Index.load(dir))).toEqual(await ranking(fresh));
    await expect(index.delete({ ids: ["c0"] })).rejects.toThrow("not in the index ('c0')");
  });

  test("upsert replaces the text of an id (added last, as an index built in that order)", async () => {
    const index = await Bm25Index.fromDocuments(docs);
    const edited = new Document({ pageContent: "The Eiffel Tower was painted again in 2024.", id: "c0" });
    await expect(index.addDocuments([edited])).rejects.toThrow(/already in the index.*upsert: true/);
    await index.addDocuments([edited], { upsert: true });
    const fresh = await Bm25Index.fromDocuments([...docs.slice(1), edited]);
    expect(await ranking(index)).toEqual(await ranking(fresh));
    expect(index.ids()).toEqual(fresh.ids());
  });
});

describe("a hybrid retriever keeps FAISS and BM25 in step", () => {
  const docs = TEST_CORPUS.map((text, i) => new Document({ pageContent: text, id: `c${i}`, metadata: { i } }));
  const stub = { compressDocuments: async (documents: Document[]) => documents } as never;

  test("delete, upsert, add; an unknown id changes neither part; save and load give the same answers", async () => {
    const retriever = await TwoStageRetriever.fromDocuments(docs, {
      stage1Kind: "hybrid",
      embeddings: HASH_EMBEDDINGS,
      compressor: stub,
      recallK: 10,
      topK: 10,
    });
    await retriever.delete({ ids: ["c1", "c2"] });
    await retriever.addDocuments(
      [
        new Document({ pageContent: "Honeybees dance to show where nectar is.", id: "c13" }),
        new Document({ pageContent: "Espresso needs a fine grind.", id: "new-1" }),
      ],
      { upsert: true },
    );
    await expect(retriever.delete({ ids: ["c3", "c1"] })).rejects.toThrow("not in the index ('c1')");
    await expect(retriever.delete(undefined as never)).rejects.toThrow("delete takes { ids: string[] }");
    await expect(retriever.addDocuments([new Document({ pageContent: "x", id: "c4" })])).rejects.toThrow(
      /'c4' is already in the index/,
    );
    const expected = [...docs.filter((d) => !["c1", "c2", "c13"].includes(d.id!)).map((d) => d.id), "c13", "new-1"];
    const ask = async (r: TwoStageRetriever) =>
      (await r.invoke("honeybees dance nectar espresso grind")).map((d) => `${d.id}:${d.pageContent}`);
    const dir = path.join(scratch, "hybrid");
    await retriever.save(dir);
    const loaded = await TwoStageRetriever.load(dir, { embeddings: HASH_EMBEDDINGS, compressor: stub });
    for (const r of [retriever, loaded]) {
      const explanation = await r.explain("honeybees dance nectar espresso grind");
      expect(explanation.candidates.map((c) => c.document.id)).not.toContain("c1");
      const bm25 = await Bm25Index.load(dir);
      expect(bm25.ids()).toEqual(expected);
    }
    const store = await FaissVectorStore.load(dir, HASH_EMBEDDINGS);
    expect(store.ids()).toEqual(expected);
    expect(await ask(loaded)).toEqual(await ask(retriever));
    expect((await ask(loaded)).find((line) => line.startsWith("c13:"))).toBe(
      "c13:Honeybees dance to show where nectar is.",
    );
  });
});
