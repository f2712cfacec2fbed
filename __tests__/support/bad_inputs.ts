import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { FaissVectorStore } from "../../src/recall/faiss/faiss_vector_store.js";
import { readFlatIndex, readFlatIndexHeader, writeFlatIndex } from "../../src/recall/faiss/flat_index_file.js";

/** One public call with a bad value, and the error `code` it must raise. */
export interface BadCall {
  name: string;
  code: "invalid_argument" | "index" | "disposed";
  call: () => unknown;
}

/** Embeddings returning fixed vectors: [1, 0, 0, 0] for any text, zeros for "zero". */
const EMBEDDINGS: EmbeddingsInterface = {
  embedDocuments: async (texts) => texts.map(() => [1, 0, 0, 0]),
  embedQuery: async (text) => (text === "zero" ? [0, 0, 0, 0] : [1, 0, 0, 0]),
};

const doc = (text = "d") => new Document({ pageContent: text });
const as = <T>(value: unknown) => value as T;

/**
 * The public API of FaissVectorStore and of the flat-index reader/writer, driven with bad values. Shared by the
 * jest table test and by the child process that proves the process survives every call (faiss aborts on bad input).
 */
export async function badCalls(): Promise<{ calls: BadCall[]; store: FaissVectorStore; cleanup: () => void }> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-bad-"));
  const store = await FaissVectorStore.fromTexts(["a", "b", "c"], {}, EMBEDDINGS);
  const saved = path.join(scratch, "saved");
  await store.save(saved);
  const manifest = JSON.parse(fs.readFileSync(path.join(saved, "two-stage.json"), "utf8"));
  const data = path.join(saved, manifest.index.data);
  const corrupt = (name: string, at: number, value: number) => {
    const dir = path.join(scratch, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(data, "docstore.json"), path.join(dir, "docstore.json"));
    const bytes = fs.readFileSync(path.join(data, "faiss.index"));
    bytes.writeInt32LE(value, at);
    fs.writeFileSync(path.join(dir, "faiss.index"), bytes);
    return dir;
  };
  const negativeMetric = corrupt("negative-metric", 33, -1);
  const metricTwo = corrupt("metric-2", 33, 2);
  const hugeDim = corrupt("huge-dim", 4, 1 << 30);
  const zeroDim = corrupt("zero-dim", 4, 0);
  const notIndex = path.join(scratch, "not-an-index.bin");
  fs.writeFileSync(notIndex, "IxFI but short");
  const file = path.join(scratch, "notes.txt");
  fs.writeFileSync(file, "mine");
  const q = [1, 0, 0, 0];
  const disposed = await FaissVectorStore.fromTexts(["x"], {}, EMBEDDINGS);
  disposed.dispose();
  const search = (query: unknown, k: unknown, filter?: unknown) =>
    store.similaritySearchVectorWithScore(as<number[]>(query), as<number>(k), as<undefined>(filter));
  const I = "invalid_argument" as const;
  const X = "index" as const;
  const D = "disposed" as const;
  const calls: BadCall[] = [
    ...[undefined, null, 0, -1, 1.5, NaN, Infinity, "3", "10", [3], {}].map((k) => ({
      name: `similaritySearchVectorWithScore(q, ${String(JSON.stringify(k) ?? k)})`,
      code: I,
      call: () => search(q, k),
    })),
    ...[undefined, null, "text", 5, {}, [1, 0], [NaN, 0, 0, 0], [0, 0, 0, 0], [Infinity, 0, 0, 0]].map((query) => ({
      name: `similaritySearchVectorWithScore(${String(JSON.stringify(query) ?? query)}, 1)`,
      code: I,
      call: () => search(query, 1),
    })),
    { name: "similaritySearchVectorWithScore(q, 1, 5)", code: I, call: () => search(q, 1, 5) },
    { name: "similaritySearch('q', 0)", code: I, call: () => store.similaritySearch("q", 0) },
    { name: "similaritySearch('zero', 1)", code: I, call: () => store.similaritySearch("zero", 1) },
    { name: "similaritySearchWithScore('q', -3)", code: I, call: () => store.similaritySearchWithScore("q", -3) },
    { name: "addVectors(null, docs)", code: I, call: () => store.addVectors(as(null), [doc()]) },
    { name: "addVectors(vectors, null)", code: I, call: () => store.addVectors([q], as(null)) },
    { name: "addVectors([null], docs)", code: I, call: () => store.addVectors(as([null]), [doc()]) },
    { name: "addVectors([q, null], docs)", code: I, call: () => store.addVectors(as([q, null]), [doc(), doc()]) },
    { name: "addVectors([NaN…], docs)", code: I, call: () => store.addVectors([[NaN, 0, 0, 0]], [doc()]) },
    { name: "addVectors([zeros], docs)", code: I, call: () => store.addVectors([[0, 0, 0, 0]], [doc()]) },
    { name: "addVectors(wrong dimension)", code: I, call: () => store.addVectors([[1, 0]], [doc()]) },
    { name: "addVectors(2 vectors, 1 doc)", code: I, call: () => store.addVectors([q, q], [doc()]) },
    { name: "addVectors([q], [null])", code: I, call: () => store.addVectors([q], as([null])) },
    { name: "addVectors(pageContent null)", code: I, call: () => store.addVectors([q], as([{ pageContent: null }])) },
    { name: "addVectors(ids: 'x')", code: I, call: () => store.addVectors([q], [doc()], as({ ids: "x" })) },
    { name: "addVectors(ids: [5])", code: I, call: () => store.addVectors([q], [doc()], as({ ids: [5] })) },
    {
      name: "addVectors(existing id)",
      code: I, // a bad argument (issue 9), not a corrupt index
      call: () => store.addVectors([q], [doc()], { ids: [store.size > 0 ? firstId(store) : "x"] }),
    },
    { name: "addDocuments(null)", code: I, call: () => store.addDocuments(as(null)) },
    { name: "addDocuments([null])", code: I, call: () => store.addDocuments(as([null])) },
    {
      name: "addDocuments(metadata BigInt)",
      code: I,
      call: () => store.addDocuments([new Document({ pageContent: "x", metadata: { n: 1n } })]),
    },
    { name: "addFlatVectors(dim 0)", code: I, call: () => store.addFlatVectors(new Float32Array(4), 0, [doc()]) },
    { name: "addFlatVectors(dim NaN)", code: I, call: () => store.addFlatVectors(new Float32Array(4), NaN, [doc()]) },
    { name: "addFlatVectors(number[])", code: I, call: () => store.addFlatVectors(as([1, 0, 0, 0]), 4, [doc()]) },
    {
      name: "addFlatVectors(too few floats)",
      code: I,
      call: () => store.addFlatVectors(new Float32Array(3), 4, [doc()]),
    },
    { name: "fromTexts(null)", code: I, call: () => FaissVectorStore.fromTexts(as(null), {}, EMBEDDINGS) },
    {
      name: "new FaissVectorStore(filterOverFetch 0)",
      code: I,
      call: () => new FaissVectorStore(EMBEDDINGS, { filterOverFetch: 0 }),
    },
    {
      name: "new FaissVectorStore(filterOverFetch '4')",
      code: I,
      call: () => new FaissVectorStore(EMBEDDINGS, as({ filterOverFetch: "4" })),
    },
    {
      name: "new FaissVectorStore(verifyChecksums 'no')",
      code: I,
      call: () => new FaissVectorStore(EMBEDDINGS, as({ verifyChecksums: "no" })),
    },
    { name: "delete()", code: I, call: () => store.delete() },
    { name: "search after dispose()", code: D, call: () => disposed.similaritySearchVectorWithScore(q, 1) },
    { name: "save after dispose()", code: D, call: () => disposed.save(path.join(scratch, "disposed")) },
    { name: "save(null)", code: I, call: () => store.save(as(null)) },
    { name: "save(existing file)", code: I, call: () => store.save(file) },
    { name: "save('.')", code: I, call: () => store.save(".") },
    {
      name: "save(empty store)",
      code: X,
      call: () => new FaissVectorStore(EMBEDDINGS).save(path.join(scratch, "empty")),
    },
    { name: "load(undefined)", code: I, call: () => FaissVectorStore.load(as(undefined), EMBEDDINGS) },
    {
      name: "load(missing folder)",
      code: X,
      call: () => FaissVectorStore.load(path.join(scratch, "missing"), EMBEDDINGS),
    },
    { name: "load(negative metric)", code: X, call: () => FaissVectorStore.load(negativeMetric, EMBEDDINGS) },
    { name: "load(metric 2)", code: X, call: () => FaissVectorStore.load(metricTwo, EMBEDDINGS) },
    { name: "load(dimension 2^30)", code: X, call: () => FaissVectorStore.load(hugeDim, EMBEDDINGS) },
    { name: "load(dimension 0)", code: X, call: () => FaissVectorStore.load(zeroDim, EMBEDDINGS) },
    { name: "readFlatIndex(undefined)", code: I, call: () => readFlatIndex(as(undefined)) },
    { name: "readFlatIndex(missing)", code: X, call: () => readFlatIndex(path.join(scratch, "missing.index")) },
    { name: "readFlatIndex(short file)", code: X, call: () => readFlatIndex(notIndex) },
    {
      name: "readFlatIndex(negative metric)",
      code: X,
      call: () => readFlatIndex(path.join(negativeMetric, "faiss.index")),
    },
    {
      name: "readFlatIndexHeader(metric 2)",
      code: X,
      call: () => readFlatIndexHeader(path.join(metricTwo, "faiss.index")),
    },
    { name: "writeFlatIndex(number[])", code: I, call: () => writeFlatIndex(path.join(scratch, "w"), as([1, 2]), 2) },
    {
      name: "writeFlatIndex(dim 0)",
      code: I,
      call: () => writeFlatIndex(path.join(scratch, "w"), new Float32Array(2), 0),
    },
    {
      name: "writeFlatIndex(3 floats, dim 2)",
      code: I,
      call: () => writeFlatIndex(path.join(scratch, "w"), new Float32Array(3), 2),
    },
    {
      name: "writeFlatIndex(metric 'cosine')",
      code: I,
      call: () => writeFlatIndex(path.join(scratch, "w"), new Float32Array(2), 2, as("cosine")),
    },
  ];
  return { calls, store, cleanup: () => fs.rmSync(scratch, { recursive: true, force: true }) };
}

function firstId(store: FaissVectorStore): string {
  return (store as unknown as { labels: string[] }).labels[0];
}

/** Runs one bad call; returns the error code it raised (or "none" / the raw error name). */
export async function outcome(call: BadCall): Promise<string> {
  try {
    await call.call();
    return "none";
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && code !== "ENOENT"
      ? code
      : `raw ${(error as Error).name}: ${(error as Error).message}`;
  }
}
