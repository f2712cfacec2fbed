import path from "node:path";

import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";
import type { IndexFlatIP } from "faiss-node";

import { documentsFromTexts } from "../../documents/documents_from_texts.js";
import { DisposedError, IndexError, InvalidArgumentError } from "../../errors.js";
import {
  batchIds,
  checkIndexDocuments,
  describeValue,
  positiveInteger,
  requiredPositiveInteger,
} from "../../validation.js";
import { recoverLegacySiblings } from "../index_folder/atomic_directory.js";
import {
  DOCSTORE_FILE,
  FAISS_MARKERS,
  INDEX_FILE,
  MANIFEST_FILE,
  type StoredDocument,
  currentDataFolder,
  faissPart,
  parseExtraFiles,
  readFaissFolder,
} from "./faiss_folder.js";
import { loadFaiss } from "./faiss_native.js";
import { filteredSearch } from "../filtered_search.js";
import { type IndexPart, saveIndexFolder } from "../index_folder/index_manifest.js";
import { flatIndexBytes, readFlatIndex } from "./flat_index_file.js";
import type { RecallFilter } from "../recall_source.js";
import { documentsById } from "../../documents/documents_by_id.js";
import { copyDocument, copyMetadata } from "../../documents/copy_document.js";

/** A metadata filter: a predicate over documents, or metadata fields that must equal the given values. */
export type FaissFilter = RecallFilter;

export { FAISS_MARKERS } from "./faiss_folder.js";

/** Options of {@link FaissVectorStore}. */
export interface FaissVectorStoreParams {
  /**
   * How many candidates a filtered search fetches per wanted result, before widening (doubling) the window.
   * @default 4
   */
  filterOverFetch?: number;
  /**
   * `load` verifies the sha256 checksums the manifest records for `faiss.index` and `docstore.json` (about 1.9 s
   * per GB on the development machine; see README "Data safety"). Folders without a manifest (FaissStore's, or
   * saved by 0.1.0) have no checksums; their structure is still checked.
   * @default true
   */
  verifyChecksums?: boolean;
}

/** What `load` found and did (see {@link FaissVectorStore.loadReport}). */
export interface FaissLoadReport {
  /** `manifest`: a folder saved by this version (checksummed); `legacy`: FaissStore's or 0.1.0's layout. */
  layout: "manifest" | "legacy";
  /** True when both checksums were recorded and matched. */
  verified: boolean;
  /** Vectors that were not unit length and were normalised on load (L2 indexes, or IP indexes written elsewhere). */
  renormalizedRows: number;
}

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
  readonly verifyChecksums: boolean = true;

  /** Set by {@link load}: the layout found, whether checksums were verified, rows normalised on load. */
  loadReport?: FaissLoadReport;

  private index?: IndexFlatIP;
  private dimension?: number;
  private readonly docs = new Map<string, StoredDocument>();
  /** faiss label → document id */
  private labels: string[] = [];
  private disposed = false;

  _vectorstoreType(): string {
    return "two_stage_faiss";
  }

  constructor(embeddings: EmbeddingsInterface, params: FaissVectorStoreParams = {}) {
    super(embeddings, params ?? {});
    this.filterOverFetch = params?.filterOverFetch ?? this.filterOverFetch;
    this.verifyChecksums = params?.verifyChecksums ?? this.verifyChecksums;
    positiveInteger("filterOverFetch", this.filterOverFetch);
    if (typeof this.verifyChecksums !== "boolean") {
      throw new InvalidArgumentError(
        `verifyChecksums must be true or false; got ${describeValue(this.verifyChecksums)}.`,
      );
    }
  }

  /**
   * Drops the native index and the documents; later calls throw. faiss-node has no explicit free: its memory returns
   * when V8 collects the index object, which `dispose()` makes possible even while this store is still referenced.
   * V8 does not see that native memory, so a tight loop of loads may hold several indexes until the next garbage
   * collection (see README "Data safety").
   */
  dispose(): void {
    this.index = undefined;
    this.docs.clear();
    this.labels = [];
    this.disposed = true;
  }

  private checkNotDisposed(): void {
    if (this.disposed) {
      throw new DisposedError("This FaissVectorStore was disposed; build or load a new one.");
    }
  }

  /** Number of documents in the index (a disposed store throws: it holds none, and must not answer as if empty). */
  get size(): number {
    this.checkNotDisposed();
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
    this.checkDocuments(documents);
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /** Checks a batch of documents (text a string, metadata JSON-serialisable) before anything is embedded or added. */
  private checkDocuments(documents: unknown): asserts documents is DocumentInterface[] {
    checkIndexDocuments(documents);
  }

  override async addVectors(
    vectors: number[][],
    documents: DocumentInterface[],
    options?: { ids?: string[] },
  ): Promise<string[]> {
    if (!Array.isArray(vectors)) {
      throw new InvalidArgumentError(`vectors must be an array of number arrays; got ${describeValue(vectors)}.`);
    }
    this.checkDocuments(documents);
    if (vectors.length !== documents.length) {
      throw new InvalidArgumentError(
        `Got ${vectors.length} vectors for ${documents.length} documents; pass one vector per document.`,
      );
    }
    if (vectors.length === 0) return [];
    const first = vectors[0] as unknown;
    if (!Array.isArray(first) && !ArrayBuffer.isView(first)) {
      throw new InvalidArgumentError(`vectors[0] is ${describeValue(first)}, not an array of numbers.`);
    }
    const dim = vectors[0].length;
    const flat = new Float32Array(vectors.length * dim);
    vectors.forEach((vector, row) => {
      if ((!Array.isArray(vector) && !ArrayBuffer.isView(vector)) || vector.length !== dim) {
        throw new InvalidArgumentError(
          `vectors[${row}] is ${Array.isArray(vector) ? `of dimension ${vector.length}` : describeValue(vector)}, but vectors[0] has dimension ${dim}. All vectors must be number arrays of one dimension.`,
        );
      }
      flat.set(vector, row * dim);
    });
    return this.addFlatVectors(flat, dim, documents, options?.ids);
  }

  /**
   * Adds row-major vectors in one native call. Ids come from `ids`, else each document's `id`, else random UUIDs;
   * an id already in the store (or twice in the batch) is refused before anything changes. Metadata must survive
   * JSON (no cycles, BigInt, functions, symbols, NaN/Infinity, Map/Set…): it is checked here, so a store that
   * accepted a document can always be saved.
   */
  addFlatVectors(flat: Float32Array, dim: number, documents: DocumentInterface[], ids?: string[]): string[] {
    this.checkNotDisposed();
    this.checkDocuments(documents);
    if (!(flat instanceof Float32Array)) {
      throw new InvalidArgumentError(`flat must be a Float32Array of row-major vectors; got ${describeValue(flat)}.`);
    }
    if (!Number.isInteger(dim) || dim <= 0 || flat.length !== documents.length * dim) {
      throw new InvalidArgumentError(
        `Expected ${documents.length} vectors of dimension ${describeValue(dim)} (${documents.length * dim} floats); got ${flat.length}.`,
      );
    }
    if (this.dimension !== undefined && dim !== this.dimension) {
      throw new InvalidArgumentError(
        `Vectors have dimension ${dim}, but the index holds dimension ${this.dimension}. Use the same embedding model for every document.`,
      );
    }
    const newIds = batchIds(documents, ids, (id) => this.docs.has(id), "store");
    if (documents.length === 0) return [];
    const vectors = flat.slice();
    const bad = normalizeRows(vectors, dim);
    if (bad >= 0) {
      throw new InvalidArgumentError(
        `Vector ${bad} is all zeros or not finite; it cannot be normalised for cosine search. Check the embedding of document ${bad}.`,
      );
    }
    this.appendNative(vectors, dim);
    documents.forEach((doc, i) => {
      this.docs.set(newIds[i], { pageContent: doc.pageContent, metadata: copyMetadata(doc.metadata), id: newIds[i] });
    });
    this.labels = this.labels.concat(newIds);
    this.dimension = dim;
    return newIds;
  }

  /**
   * Adds normalised vectors to the native index in one call: they are laid out as a faiss flat index in memory and
   * read with `fromBuffer` (faiss-node's `add()` converts number by number; no temporary file, so a full TMPDIR
   * cannot truncate it), then merged into any existing index.
   */
  private appendNative(vectors: Float32Array, dim: number): void {
    const loaded = loadFaiss().IndexFlatIP.fromBuffer(flatIndexBytes(vectors, dim, "ip")) as IndexFlatIP;
    if (this.index) this.index.mergeFrom(loaded);
    else this.index = loaded;
  }

  /**
   * The stored documents `ids` name (by the identity rule: the store's ids; `text:<start>` for one without), in the
   * order of `ids`, undefined where none matches; copies, as search results are.
   */
  async getDocuments(ids: readonly string[]): Promise<(Document | undefined)[]> {
    this.checkNotDisposed();
    const views = (function* (docs: Map<string, StoredDocument>) {
      for (const [id, stored] of docs) yield { id, pageContent: stored.pageContent, metadata: stored.metadata };
    })(this.docs);
    return documentsById(views, ids).map((view) => (view ? this.toDocument(view.id) : undefined));
  }

  private toDocument(id: string): Document {
    const stored = this.docs.get(id);
    if (!stored)
      throw new IndexError(`The index refers to document '${id}', which the docstore lacks. Rebuild the index.`);
    return copyDocument({ pageContent: stored.pageContent, metadata: stored.metadata, id });
  }

  /**
   * The `k` most similar documents to a query vector with their cosine similarity, best first. `k` larger than the
   * store returns every document; an empty store returns []. With a filter, the candidate window grows until `k`
   * documents match or the whole index was searched. Every argument is checked before faiss is called.
   */
  override async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: FaissFilter,
  ): Promise<[Document, number][]> {
    this.checkNotDisposed();
    requiredPositiveInteger("k", k);
    if (!Array.isArray(query) && !ArrayBuffer.isView(query as unknown)) {
      throw new InvalidArgumentError(`The query vector must be an array of numbers; got ${describeValue(query)}.`);
    }
    if (filter !== undefined && typeof filter !== "function" && (typeof filter !== "object" || filter === null)) {
      throw new InvalidArgumentError(
        `filter must be a function or an object of metadata fields; got ${describeValue(filter)}.`,
      );
    }
    if (!this.index || this.labels.length === 0) return [];
    if (query.length !== this.dimension) {
      throw new InvalidArgumentError(
        `The query vector has dimension ${query.length}, but the index holds dimension ${this.dimension}. Embed the query with the model used for the documents.`,
      );
    }
    const q = Float32Array.from(query);
    if (normalizeRows(q, q.length) >= 0) {
      const zero = q.every((x) => x === 0);
      throw new InvalidArgumentError(
        zero
          ? "The query embedded to a zero vector, so it has no direction to compare: the embedding model found " +
              "nothing it knows in it (e.g. no token in its vocabulary, or only padding). Rephrase the query or check " +
              "that the embedding model fits the language of the query."
          : "The query vector holds NaN or Infinity; the embedding model returned a broken vector. Check the model.",
        zero ? { argument: "queryEmbedding" } : {}, // a hybrid falls back to its other sources on this one
      );
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
   * Saves the index into `directory`, crash-safely. The folder gets a manifest `two-stage.json` (the store's entry
   * under `index`: format version, dimension, count, metric, sha256 of each file, and the name of the data folder
   * holding them) plus `faiss.index` + `docstore.json` at the top level (hard links to the current data, so
   * `FaissStore.load` reads the folder too). The new data is written into a staging folder of ours and published by
   * one atomic rename of the manifest: after a crash at any point, `load` finds the previous or the new index, whole.
   * The index is serialised in memory (`toBuffer`, a transient copy of the vectors) and written by Node, so a full
   * disk is an {@link IndexError} naming the file, never an abort. One writer per folder: a save while another
   * process (or another call) is saving the same folder is refused with an `IndexError` naming the holder.
   *
   * Only a missing path, an empty folder or an existing index folder is written; anything else (a file, a folder of
   * other things, `"."`) is refused with an {@link InvalidArgumentError} and nothing is touched.
   *
   * `extraFiles` (name → text) are saved alongside; a `two-stage.json` among them must be a JSON object, whose
   * fields are kept in the manifest next to the store's own `index` entry.
   */
  async save(directory: string, options: { extraFiles?: Record<string, string> } = {}): Promise<void> {
    this.checkNotDisposed();
    const { callerManifest, extras } = parseExtraFiles(options?.extraFiles ?? {});
    await saveIndexFolder(directory, {
      kind: "FAISS index",
      markers: [FAISS_MARKERS],
      parts: [this.indexPart(extras)],
      manifest: callerManifest,
      exposed: [INDEX_FILE, DOCSTORE_FILE, ...extras.map(([name]) => name)],
    });
  }

  /**
   * The store as one part of an index folder (the save pipeline writes it beside a BM25 part for a hybrid).
   * @internal
   */
  indexPart(extras: readonly [string, string][] = []): IndexPart {
    this.checkNotDisposed();
    const index = this.index;
    const dim = this.dimension;
    if (!index || dim === undefined) {
      throw new IndexError("Nothing to save: the store is empty. Add documents first.");
    }
    return faissPart(
      { dim, count: this.labels.length, index: () => index.toBuffer(), docs: this.docs, labels: this.labels },
      extras,
    );
  }

  /**
   * Loads a folder saved by this class (any version) or by `FaissStore.save`, checking it whole before faiss sees
   * it: the manifest's checksums (when present), every header field of `faiss.index`, every vector (finite and
   * non-zero), every docstore entry (`pageContent` a string, `metadata` an object), and labels ↔ ids a bijection
   * (no duplicates, no document without a vector, no vector without a document). Any failure is an
   * {@link IndexError} naming the file and the fault.
   *
   * Scores are always cosines: an L2 index (FaissStore's default) is converted to inner product on normalised
   * vectors, and so is an inner-product index whose vectors are not unit length (written by another tool): its
   * ranking is then by cosine, not raw dot product. `loadReport.renormalizedRows` says how many rows that touched.
   */
  static async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams = {},
  ): Promise<FaissVectorStore> {
    if (typeof directory !== "string" || directory.trim() === "") {
      throw new InvalidArgumentError(`directory must be the path of a saved index; got ${describeValue(directory)}.`);
    }
    // Let the event loop turn once: faiss-node frees a dropped index in a finalizer that runs on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    const target = path.resolve(directory);
    recoverLegacySiblings(target, MANIFEST_FILE);
    for (let attempt = 0; ; attempt++) {
      const data = currentDataFolder(target);
      try {
        return FaissVectorStore.loadOnce(directory, target, embeddings, params);
      } catch (error) {
        // A save in another process may have published a new version (and removed the one this attempt read)
        // meanwhile: read the new one.
        if (attempt < 2 && currentDataFolder(target) !== data) continue;
        throw error;
      }
    }
  }

  private static loadOnce(
    directory: string,
    target: string,
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams,
  ): FaissVectorStore {
    const store = new FaissVectorStore(embeddings, params);
    const folder = readFaissFolder(directory, target, store.verifyChecksums);
    const { scan, indexFile } = folder;
    for (const [id, doc] of folder.docs) store.docs.set(id, doc);
    store.labels = folder.labels;
    let renormalizedRows = 0;
    if (scan.ntotal > 0) {
      if (scan.metric === "ip" && scan.notUnit === 0) {
        store.index = loadFaiss().IndexFlatIP.read(indexFile) as IndexFlatIP;
      } else {
        const { vectors } = readFlatIndex(indexFile);
        normalizeRows(vectors, scan.dim);
        store.appendNative(vectors, scan.dim);
        renormalizedRows = scan.notUnit;
      }
    }
    store.dimension = scan.dim;
    store.loadReport = { layout: folder.layout, verified: folder.verified, renormalizedRows };
    return store;
  }

  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    params: FaissVectorStoreParams = {},
  ): Promise<FaissVectorStore> {
    return FaissVectorStore.fromDocuments(documentsFromTexts(texts, metadatas), embeddings, params);
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
