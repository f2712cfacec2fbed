import { Document } from "@langchain/core/documents";

import { docstoreTuning } from "../../src/recall/faiss/docstore_file.js";
import { FaissVectorStore } from "../../src/recall/faiss/faiss_vector_store.js";
import { randomUnitVectors } from "./random.js";
import { NO_EMBEDDINGS } from "./vector_stores.js";

export const CRASH_DIM = 16;
const FILLER = "x".repeat(8 * 1024); // 40 documents × 8 KB, written in chunks of 16 KB: ~20 write steps

/** Number of documents of version `version` (differs between consecutive versions). */
export const crashTestSize = (version: number) => 40 + (version % 5);

/** Version `version` of the crash-test index: every text starts with `v<version> `. */
export function crashTestStore(version: number): FaissVectorStore {
  docstoreTuning.writeChunkBytes = 16 * 1024;
  const count = crashTestSize(version);
  const store = new FaissVectorStore(NO_EMBEDDINGS);
  const docs = Array.from(
    { length: count },
    (_, i) => new Document({ pageContent: `v${version} doc ${i} ${FILLER}`, metadata: { version, i } }),
  );
  store.addFlatVectors(
    randomUnitVectors(count, CRASH_DIM, version + 1),
    CRASH_DIM,
    docs,
    docs.map((_, i) => `v${version}-${i}`),
  );
  return store;
}
