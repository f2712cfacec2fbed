import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";
import type { IndexFlatIP } from "faiss-node";

import { IndexError, InvalidArgumentError } from "../errors.js";
import { positiveInteger } from "../validation.js";
import { replaceDirectory, stagingDirectory } from "./atomic_directory.js";
import { loadFaiss } from "./faiss_native.js";
import { filteredSearch } from "./filtered_search.js";
import { readFlatIndex, readFlatIndexHeader, writeFlatIndex } from "./flat_index_file.js";
import type { RecallFilter } from "./recall_source.js";

/** A metadata filter: a predicate over documents, or metadata fields that must equal the given values. */
export type FaissFilter = RecallFilter;

/** Options of {@link FaissVectorStore}. */
export interface FaissVectorStoreParams {
  /**
   * How many candidates a filtered search fetches per wanted result, before widening (doubling) the window.
   * @default 4
   */
  filterOverFetch?: number;
}

const INDEX_FILE = "faiss.index";
const DOCSTORE_FILE = "docstore.json";

type StoredDocument = { pageContent: string; metadata: Record<string, unknown>; id?: string };

/** L2-normalises rows in place; returns the first row that is all zeros or not finite, else -1. */
function normalizeRows(vectors: Float32Array, dim: number): number {
  for (let row = 0; row < vectors.length / dim; row++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += vectors[row * dim + j] * vectors[row * dim + j];
    if (!Number.isFinite(norm) || norm === 0) return row;
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) vectors[row * dim + j] *= scale;
  }
  return -1;
}

/**
 * Stage 1 over FAISS: an exact inner-product index (`IndexFlatIP`) on L2-normalised vectors, so scores are cosine
 * similarities in [-1, 1], higher is better. Vectors are added in bulk (one native call per batch, written as a
 * flat index file rather than converted number by number), every call into faiss-node is validated first (faiss
 * aborts the process on bad input), filters are applied (never silently ignored), and saves are atomic. The on-disk
 * layout is `FaissStore`'s (`faiss.index` + `docstore.json`), so either class loads the other's folders.
 *
 * @example
 * ```ts
 * const store = await FaissVectorStore.fromTexts(["tides follow the moon", "bread needs yeast"], [{}, {}], embeddings);
 * const [[doc, cosine]] = await store.similaritySearchWithScore("what causes tides", 1);
 * // doc.pageContent === "tides follow the moon", cosine ≈ 0.6
 * ```
 */
export class FaissVectorStore extends VectorStore {
  declare FilterType: FaissFilter;

  readonly filterOverFetch: number = 4;

  private index?: IndexFlatIP;
  private dimension?: number;
  private readonly docs = new Map<string, StoredDocument>();
  /** faiss label → document id */
  private labels: string[] = [];

  _vectorstoreType(): string {
    return "two_stage_faiss";
  }

  constructor(embeddings: EmbeddingsInterface, params: FaissVectorStoreParams = {}) {
    super(embeddings, params);
    this.filterOverFetch = params.filterOverFetch ?? this.filterOverFetch;
    positiveInteger("filterOverFetch", this.filterOverFetch);
  }

  /** Number of documents in the index. */
  get size(): number {
    return this.labels.length;
  }

  /** The native faiss-node index (advanced use and benchmarks; do not add to it directly). */
  get faissIndex(): IndexFlatIP | undefined {
    return this.index;
  }

  /** Vector dimension, once the first vectors are added. */
  get dim(): number | undefined {
    return this.dimension;
  }

  override async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  override async addVectors(
    vectors: number[][],
    documents: DocumentInterface[],
    options?: { ids?: string[] },
  ): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw new InvalidArgumentError(
        `Got ${vectors.length} vectors for ${documents.length} documents; pass one vector per document.`,
      );
    }
    if (vectors.length === 0) return [];
    const dim = vectors[0].length;
    const flat = new Float32Array(vectors.length * dim);
    vectors.forEach((vector, row) => {
      if (vector.length !== dim) {
        throw new InvalidArgumentError(
          `vectors[${row}] has dimension ${vector.length}, but vectors[0] has ${dim}. All vectors must have one dimension.`,
        );
      }
      flat.set(vector, row * dim);
    });
    return this.addFlatVectors(flat, dim, documents, options?.ids);
  }

  /**
   * Adds row-major vectors in one native call. Ids come from `ids`, else each document's `id`, else random UUIDs;
   * an id already in the store (or twice in the batch) is refused before anything changes.
   */
  addFlatVectors(flat: Float32Array, dim: number, documents: DocumentInterface[], ids?: string[]): string[] {
    if (!Number.isInteger(dim) || dim <= 0 || flat.length !== documents.length * dim) {
      throw new InvalidArgumentError(
        `Expected ${documents.length} vectors of dimension ${dim} (${documents.length * dim} floats); got ${flat.length}.`,
      );
    }
    if (this.dimension !== undefined && dim !== this.dimension) {
      throw new InvalidArgumentError(
        `Vectors have dimension ${dim}, but the index holds dimension ${this.dimension}. Use the same embedding model for every document.`,
      );
    }
    if (ids !== undefined && ids.length !== documents.length) {
      throw new InvalidArgumentError(`Got ${ids.length} ids for ${documents.length} documents.`);
    }
    const newIds = documents.map((doc, i) => ids?.[i] ?? doc.id ?? randomUUID());
    const batch = new Set<string>();
    newIds.forEach((id) => {
      if (this.docs.has(id) || batch.has(id)) {
        throw new InvalidArgumentError(
          `Document id '${id}' is already in the store. Ids must be unique; delete the old document first or pass another id.`,
        );
      }
      batch.add(id);
    });
    const vectors = flat.slice();
    const bad = normalizeRows(vectors, dim);
    if (bad >= 0) {
      throw new InvalidArgumentError(
        `Vector ${bad} is all zeros or not finite; it cannot be normalised for cosine search.`,
      );
    }
    this.appendNative(vectors, dim);
    documents.forEach((doc, i) => {
      this.docs.set(newIds[i], { pageContent: doc.pageContent, metadata: { ...doc.metadata }, id: newIds[i] });
    });
    this.labels = this.labels.concat(newIds);
    this.dimension = dim;
    return newIds;
  }

  /** Adds normalised vectors to the native index through a flat index file (fast), merging into any existing one. */
  private appendNative(vectors: Float32Array, dim: number): void {
    const faiss = loadFaiss();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-faiss-"));
    try {
      const file = path.join(scratch, INDEX_FILE);
      writeFlatIndex(file, vectors, dim, "ip");
      const loaded = faiss.IndexFlatIP.read(file) as IndexFlatIP;
      if (this.index) this.index.mergeFrom(loaded);
      else this.index = loaded;
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  private toDocument(id: string): Document {
    const stored = this.docs.get(id);
    if (!stored)
      throw new IndexError(`The index refers to document '${id}', which the docstore lacks. Rebuild the index.`);
    return new Document({ pageContent: stored.pageContent, metadata: { ...stored.metadata }, id });
  }

  /**
   * The `k` most similar documents to a query vector with their cosine similarity, best first. `k` larger than the
   * store returns every document; an empty store returns []. With a filter, the candidate window grows until `k`
   * documents match or the whole index was searched.
   */
  override async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: FaissFilter,
  ): Promise<[Document, number][]> {
    positiveInteger("k", k);
    if (!this.index || this.labels.length === 0) return [];
    if (query.length !== this.dimension) {
      throw new InvalidArgumentError(
        `The query vector has dimension ${query.length}, but the index holds dimension ${this.dimension}. Embed the query with the model used for the documents.`,
      );
    }
    const q = Float32Array.from(query);
    if (normalizeRows(q, q.length) >= 0) {
      throw new InvalidArgumentError("The query vector is all zeros or not finite.");
    }
    const total = this.labels.length;
    const index = this.index;
    const queryArray = Array.from(q);
    return filteredSearch(
      k,
      this.filterOverFetch,
      filter,
      async (window) => {
        const { labels, distances } = index.search(queryArray, Math.min(window, total));
        const hits: [Document, number][] = [];
        for (let i = 0; i < labels.length; i++) {
          if (labels[i] >= 0) hits.push([this.toDocument(this.labels[labels[i]]), distances[i]]); // -1 pads missing results
        }
        return hits;
      },
      ([doc]) => doc,
    );
  }

  /** Deletes nothing yet: flat indexes are append-only here. Rebuild the store to remove documents. */
  override async delete(): Promise<void> {
    throw new InvalidArgumentError(
      "FaissVectorStore does not support delete; rebuild the store without the documents.",
    );
  }

  /**
   * Saves `faiss.index` + `docstore.json` (the FaissStore layout) atomically: everything is written to a sibling
   * folder first, then swapped in, so an interrupted save leaves the previous index loadable. `extraFiles` (name →
   * text) are written into the same folder in the same swap.
   */
  async save(directory: string, options: { extraFiles?: Record<string, string> } = {}): Promise<void> {
    if (!this.index || this.dimension === undefined) {
      throw new IndexError("Nothing to save: the store is empty. Add documents first.");
    }
    const staging = stagingDirectory(directory);
    try {
      this.index.write(path.join(staging, INDEX_FILE));
      const mapping = Object.fromEntries(this.labels.map((id, label) => [String(label), id]));
      const docstore = [...this.docs.entries()];
      fs.writeFileSync(path.join(staging, DOCSTORE_FILE), JSON.stringify([docstore, mapping]));
      for (const [name, content] of Object.entries(options.extraFiles ?? {})) {
        fs.writeFileSync(path.join(staging, path.basename(name)), content);
      }
    } catch (error) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    replaceDirectory(staging, directory);
  }

  /**
   * Loads a folder saved by this class or by `FaissStore.save`. An L2 index (FaissStore's default) is converted to
   * inner product on normalised vectors, so scores are cosines; its ranking is unchanged when the saved vectors
   * were normalised (as sentence-transformers embeddings are).
   */
  static async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams = {},
  ): Promise<FaissVectorStore> {
    const indexFile = path.join(directory, INDEX_FILE);
    const docstoreFile = path.join(directory, DOCSTORE_FILE);
    for (const file of [indexFile, docstoreFile]) {
      if (!fs.existsSync(file)) {
        throw new IndexError(
          `${file} is missing: '${directory}' is not a saved index (expected ${INDEX_FILE} and ${DOCSTORE_FILE}).`,
        );
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(docstoreFile, "utf8"));
    } catch (error) {
      throw new IndexError(`${docstoreFile} is not valid JSON; the index is corrupt.`, { cause: error });
    }
    if (!Array.isArray(parsed) || !Array.isArray(parsed[0]) || typeof parsed[1] !== "object" || parsed[1] === null) {
      throw new IndexError(`${docstoreFile} does not have the FaissStore layout [[id, document][], {label: id}].`);
    }
    const [entries, mapping] = parsed as [[string, StoredDocument][], Record<string, string>];
    const { metric, dim, ntotal } = readFlatIndexHeader(indexFile);
    if (Object.keys(mapping).length !== ntotal) {
      throw new IndexError(
        `${directory}: the index holds ${ntotal} vectors but docstore.json maps ${Object.keys(mapping).length}. The folder is inconsistent; rebuild it.`,
      );
    }
    const store = new FaissVectorStore(embeddings, params);
    for (const [id, doc] of entries) {
      store.docs.set(id, { pageContent: doc.pageContent, metadata: doc.metadata ?? {}, id });
    }
    store.labels = Array.from({ length: ntotal }, (_, label) => {
      const id = mapping[String(label)];
      if (id === undefined || !store.docs.has(id)) {
        throw new IndexError(`${directory}: vector ${label} maps to a document the docstore lacks. Rebuild the index.`);
      }
      return id;
    });
    if (ntotal > 0) {
      if (metric === "ip") {
        store.index = loadFaiss().IndexFlatIP.read(indexFile) as IndexFlatIP;
      } else {
        const { vectors } = readFlatIndex(indexFile);
        const bad = normalizeRows(vectors, dim);
        if (bad >= 0) throw new IndexError(`${indexFile}: vector ${bad} is all zeros or not finite.`);
        store.appendNative(vectors, dim);
      }
    }
    store.dimension = dim;
    return store;
  }

  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams = {},
  ): Promise<FaissVectorStore> {
    const docs = texts.map(
      (text, i) =>
        new Document({ pageContent: text, metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {} }),
    );
    return FaissVectorStore.fromDocuments(docs, embeddings, params);
  }

  static override async fromDocuments(
    docs: DocumentInterface[],
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams = {},
  ): Promise<FaissVectorStore> {
    const store = new FaissVectorStore(embeddings, params);
    await store.addDocuments(docs);
    return store;
  }
}
