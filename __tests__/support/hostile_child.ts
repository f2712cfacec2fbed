// Child process of nothing_lost.int.test.ts, for the cases where an abort is possible or a second process is needed:
//   save <dir> <count>   saves a FAISS store of <count> 64-dim vectors into <dir>; prints {"ok":true} or the error
//   add <count>          builds a store of <count> vectors in memory (no file), prints {"ok":true,"size":n} or the error
//   hold <dir>           takes <dir>'s writer lock, prints "held", and waits to be killed
import { Document } from "@langchain/core/documents";

import { FaissVectorStore } from "../../src/recall/faiss/faiss_vector_store.js";
import { lockFolder } from "../../src/recall/index_folder/folder_lock.js";
import { randomUnitVectors } from "./random.js";
import { NO_EMBEDDINGS } from "./vector_stores.js";

const [mode, ...rest] = process.argv.slice(2);

function store(count: number): FaissVectorStore {
  const result = new FaissVectorStore(NO_EMBEDDINGS);
  const docs = Array.from({ length: count }, (_, i) => new Document({ pageContent: `doc ${i}` }));
  result.addFlatVectors(
    randomUnitVectors(count, 64, 3),
    64,
    docs,
    docs.map((_, i) => `d${i}`),
  );
  return result;
}

function report(error: unknown): void {
  const { name, message, code } = error as { name?: string; message?: string; code?: string };
  process.stdout.write(JSON.stringify({ ok: false, name, code, message }));
}

try {
  if (mode === "save") {
    await store(Number(rest[1])).save(rest[0]);
    process.stdout.write(JSON.stringify({ ok: true }));
  } else if (mode === "add") {
    process.stdout.write(JSON.stringify({ ok: true, size: store(Number(rest[0])).size }));
  } else if (mode === "hold") {
    await lockFolder(rest[0], { purpose: "holding it for a test" });
    process.stdout.write("held\n");
    setInterval(() => undefined, 1000);
  }
} catch (error) {
  report(error);
}
