import { Document, type DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "../../errors.js";
import {
  batchIds,
  checkDeleteIds,
  checkIndexDocuments,
  checkQuery,
  checkUpsert,
  describeValue,
} from "../../validation.js";
import { type IndexPart, saveIndexFolder } from "../index_folder/index_manifest.js";
import { BM25_FILES, BM25_VERSION, type StoredDocument, readBm25Files, writeBm25Files } from "./bm25_files.js";

export { BM25_FILES } from "./bm25_files.js";
import { matchesFilter } from "../filtered_search.js";
import type { RecallCandidate, RecallFilter, RecallSource } from "../recall_source.js";
import { EnglishAnalyzer, type TextAnalyzer } from "./english_analyzer.js";
import { quantizedLength } from "./small_float.js";
import { TopKHeap } from "./top_k_heap.js";
import { documentsFromTexts } from "../../documents/documents_from_texts.js";
import { copyDocument, copyMetadata } from "../../documents/copy_document.js";
import { documentsById } from "../../documents/documents_by_id.js";

/** Options of {@link Bm25Index}. */
export interface Bm25IndexParams {
  /**
   * Term-frequency saturation (Lucene's and Anserini's default).
   * @default 0.9
   */
  k1?: number;
  /**
   * Document-length normalisation, 0 (none) to 1 (full) (Lucene's and Anserini's default).
   * @default 0.4
   */
  b?: number;
  /**
   * How documents and queries become terms. A saved index records the analyzer's `name`; loading it with an
   * analyzer of another name is refused.
   * @default new EnglishAnalyzer() (close to Lucene's EnglishAnalyzer)
   */
  analyzer?: TextAnalyzer;
  /**
   * Score with document lengths rounded as Lucene stores them (one byte per document: exact below 24 tokens, then
   * 4 significant bits), so scores equal Lucene's (and Anserini's). Off, lengths are exact. On BEIR SciFact it moves
   * nDCG@10 from 0.6777 (exact) to 0.6789 (Lucene's figure); Recall@100 is 0.9253 either way.
   * @default true
   */
  luceneLengthQuantization?: boolean;
}

/**
 * A query whose postings number at least this fraction of the documents is ranked densely (no touched list, one
 * pass over the score array). The crossover measured on a 100k-document corpus with one-term queries: the touched
 * list was faster up to ~6 % of the documents, on par at ~12 %, the dense pass ~2× faster at 25 %.
 */
const DENSE_POSTINGS_FRACTION = 1 / 8;

/** A growable Uint32Array. */
class U32Buffer {
  data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = value;
  }
  reserve(capacity: number): void {
    if (capacity <= this.data.length) return;
    const grown = new Uint32Array(Math.max(capacity, this.data.length * 2));
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}

function checkParams(k1: number, b: number): void {
  if (typeof k1 !== "number" || !Number.isFinite(k1) || k1 < 0) {
    throw new InvalidArgumentError(
      `k1 must be a finite number >= 0; got ${typeof k1 === "number" ? k1 : describeValue(k1)}. Lucene uses 0.9.`,
    );
  }
  if (typeof b !== "number" || !Number.isFinite(b) || b < 0 || b > 1) {
    throw new InvalidArgumentError(
      `b must be a number from 0 to 1; got ${typeof b === "number" ? b : describeValue(b)}. Lucene uses 0.4.`,
    );
  }
}

/**
 * Throws unless every field of a metadata filter is a plain value compared by equality (string, number, boolean,
 * null): an operator object such as `{ year: { $gt: 2020 } }` would otherwise match nothing, silently.
 */
function checkEqualityFilter(filter: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(filter)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) continue;
    const shown = typeof value === "object" ? JSON.stringify(value) : describeValue(value);
    throw new InvalidArgumentError(
      `BM25 filter field '${key}' is ${shown ?? describeValue(value)}: Bm25Index filters support only equality on ` +
        "metadata values ({ field: value } with a string, number, boolean or null; every field must match) or a " +
        `predicate (doc) => boolean. For operators, pass a predicate, e.g. (doc) => doc.metadata.${/^[A-Za-z_$][\w$]*$/.test(key) ? key : "field"} > 2020.`,
      { argument: `filter.${key}` },
    );
  }
}

/**
 * A BM25 index for stage 1 that needs no model: Lucene's BM25 (`idf = ln(1 + (N − n + 0.5)/(n + 0.5))`, term weight
 * `idf · tf / (tf + k1 · (1 − b + b · dl / avgdl))`, summed over the query's terms, a term repeated in the query
 * counting that many times, as Anserini's bag-of-words queries do), where `N` is the number of documents with at
 * least one term, `n` those holding the term, `dl` a document's length in analyzed terms and `avgdl` the mean of
 * `dl` over those `N` documents. (Lucene ≥ 8 drops the constant `k1 + 1` factor; so do we: rankings are the same.)
 *
 * Postings are compact typed arrays (per term: document numbers `Uint32`, term frequencies `Uint16`, or `Uint32`
 * once a frequency passes 65,535). A query reads only the postings of its terms, summing each document's score in
 * one reused Float64 array (no per-posting precomputation: nothing to redo when `avgdl` changes with an add or a
 * delete), keeps the best `k` in a heap, and breaks score ties by insertion order. A query whose postings number at
 * least 1/8 of the documents is selected by one pass over that array in document order instead of a list of the
 * documents it touched; the scores and order are the same either way. Only documents sharing at least one term with
 * the query are returned.
 *
 * @example
 * ```ts
 * const index = await Bm25Index.fromTexts(["Tides follow the moon.", "Bread needs yeast."]);
 * const [best] = await index.recall("what causes the tides", 1);
 * // best.document.pageContent === "Tides follow the moon.", best.score ≈ 0.3648 (ln 2 · 1 / (1 + 0.9))
 * ```
 */
export class Bm25Index implements RecallSource {
  readonly name = "bm25";

  readonly scoreKind = "bm25";

  readonly k1: number = 0.9;

  readonly b: number = 0.4;

  readonly analyzer: TextAnalyzer;

  readonly luceneLengthQuantization: boolean = true;

  private readonly documents: StoredDocument[] = [];
  private readonly idToNumber = new Map<string, number>();
  private docLengths = new Uint32Array(0);

  private readonly vocabulary = new Map<string, number>();
  private readonly terms: string[] = [];

  // compacted postings (CSR): term t's postings are [offsets[t], offsets[t + 1])
  private offsets = new Uint32Array(1);
  private postingDocs = new Uint32Array(0);
  private postingTfs: Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer> = new Uint16Array(0);

  // postings added since the last compaction: (term, document, tf) triples in document order
  private readonly pendingTerms = new U32Buffer();
  private readonly pendingDocs = new U32Buffer();
  private readonly pendingTfs = new U32Buffer();

  // derived from the postings and lengths by refresh()
  private dirty = true;
  private docNorms = new Float64Array(0);
  private docCount = 0;
  private scores = new Float64Array(0);

  constructor(params: Bm25IndexParams = {}) {
    this.k1 = params.k1 ?? this.k1;
    this.b = params.b ?? this.b;
    checkParams(this.k1, this.b);
    this.analyzer = params.analyzer ?? new EnglishAnalyzer();
    if (typeof this.analyzer?.analyze !== "function" || typeof this.analyzer.name !== "string") {
      throw new InvalidArgumentError(
        `analyzer must have a name and an analyze(text) method; got ${describeValue(params.analyzer)}. Pass an EnglishAnalyzer or your own TextAnalyzer.`,
      );
    }
    this.luceneLengthQuantization = params.luceneLengthQuantization ?? this.luceneLengthQuantization;
  }

  /** Number of documents. */
  get size(): number {
    return this.documents.length;
  }

  /** Number of distinct terms. */
  get vocabularySize(): number {
    return this.terms.length;
  }

  /** Number of (term, document) postings. */
  get postingCount(): number {
    this.refresh();
    return this.postingDocs.length;
  }

  /** Bytes held by the postings, offsets and document lengths (typed arrays; strings and documents excluded). */
  get postingBytes(): number {
    this.refresh();
    return (
      this.offsets.byteLength + this.postingDocs.byteLength + this.postingTfs.byteLength + this.documents.length * 4
    );
  }

  /**
   * Adds documents. Ids come from `options.ids`, else each document's `id`, else random UUIDs; an id twice in the
   * batch is refused, and so is an id already in the index unless `options.upsert` is true — then the stored
   * document is replaced (the new one is added last, as an added one is). Everything is checked before anything
   * changes. Documents are copied, never mutated.
   */
  async addDocuments(
    documents: DocumentInterface[],
    options?: { ids?: string[]; upsert?: boolean },
  ): Promise<string[]> {
    checkIndexDocuments(documents);
    const upsert = checkUpsert(options?.upsert);
    const newIds = batchIds(documents, options?.ids, (id) => !upsert && this.idToNumber.has(id), "index");
    if (documents.length === 0) return [];
    // Analyzed before anything changes: an analyzer that throws leaves the index as it was.
    const analyzed = documents.map((doc) => this.analyzer.analyze(doc.pageContent));
    const replaced = upsert ? newIds.filter((id) => this.idToNumber.has(id)) : [];
    if (replaced.length > 0) this.removeChecked(replaced);

    const first = this.documents.length;
    const pendingMark = this.pendingTerms.length;
    const lengths = new Uint32Array(documents.length);
    try {
      let tfs = new Uint32Array(Math.max(1024, this.terms.length));
      const seen: number[] = [];
      analyzed.forEach((tokens, i) => {
        lengths[i] = tokens.length;
        for (const token of tokens) {
          let term = this.vocabulary.get(token);
          if (term === undefined) {
            term = this.terms.length;
            this.vocabulary.set(token, term);
            this.terms.push(token);
            if (term >= tfs.length) {
              const grown = new Uint32Array(tfs.length * 2);
              grown.set(tfs);
              tfs = grown;
            }
          }
          if (tfs[term] === 0) seen.push(term);
          tfs[term] += 1;
        }
        for (const term of seen) {
          this.pendingTerms.push(term);
          this.pendingDocs.push(first + i);
          this.pendingTfs.push(tfs[term]);
          tfs[term] = 0;
        }
        seen.length = 0;
      });
    } catch (error) {
      // an analyzer failed: forget this batch's postings (new vocabulary entries without postings are harmless)
      this.pendingTerms.length = this.pendingDocs.length = this.pendingTfs.length = pendingMark;
      throw error;
    }
    documents.forEach((doc, i) => {
      this.documents.push({ id: newIds[i], pageContent: doc.pageContent, metadata: copyMetadata(doc.metadata) });
      this.idToNumber.set(newIds[i], first + i);
    });
    const grownLengths = new Uint32Array(this.documents.length);
    grownLengths.set(this.docLengths);
    grownLengths.set(lengths, first);
    this.docLengths = grownLengths;
    this.dirty = true;
    return newIds;
  }

  /** Whether a document with this id is in the index. */
  has(id: string): boolean {
    return this.idToNumber.has(id);
  }

  /**
   * The ids of the documents in the index, in insertion order; with a filter, of those that pass it (e.g.
   * `ids({ source: "notes/a.md" })`).
   */
  ids(filter?: RecallFilter): string[] {
    return this.documents
      .filter((doc) => matchesFilter(filter, typeof filter === "function" ? copyDocument(doc) : doc))
      .map((doc) => doc.id);
  }

  /**
   * Deletes the documents with these ids and their postings; the collection statistics (N, avgdl, document
   * frequencies) are recomputed, so scores are what an index built without them gives. Every id must be in the
   * index: an unknown one is refused (an {@link InvalidArgumentError} naming it) before anything changes. In memory:
   * {@link save} makes it durable.
   */
  async delete(params?: { ids?: string[] }): Promise<void> {
    const ids = checkDeleteIds(params, (id) => this.idToNumber.has(id), "index");
    if (ids.length > 0) this.removeChecked(ids);
  }

  /**
   * Removes held ids: documents, lengths and postings are compacted in order (document numbers renumbered), so ties
   * still go to the document added first. Terms left without postings stay in the vocabulary (they match nothing).
   */
  private removeChecked(ids: readonly string[]): void {
    this.refresh(); // pending postings into the compact arrays first
    const n = this.documents.length;
    const gone = new Uint8Array(n);
    for (const id of ids) gone[this.idToNumber.get(id)!] = 1;
    const renumber = new Int32Array(n);
    let kept = 0;
    for (let d = 0; d < n; d++) renumber[d] = gone[d] ? -1 : kept++;
    const terms = this.offsets.length - 1;
    const offsets = new Uint32Array(terms + 1);
    const docs = new Uint32Array(this.postingDocs.length);
    const tfs = new (this.postingTfs instanceof Uint16Array ? Uint16Array : Uint32Array)(this.postingTfs.length);
    let at = 0;
    for (let t = 0; t < terms; t++) {
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++) {
        const d = renumber[this.postingDocs[p]];
        if (d < 0) continue;
        docs[at] = d;
        tfs[at] = this.postingTfs[p];
        at += 1;
      }
      offsets[t + 1] = at;
    }
    this.offsets = offsets;
    this.postingDocs = docs.slice(0, at);
    this.postingTfs = tfs.slice(0, at);
    const lengths = new Uint32Array(kept);
    const remaining: StoredDocument[] = [];
    for (let d = 0; d < n; d++) {
      if (gone[d]) continue;
      lengths[renumber[d]] = this.docLengths[d];
      remaining.push(this.documents[d]);
    }
    this.documents.length = 0;
    this.documents.push(...remaining);
    this.idToNumber.clear();
    remaining.forEach((doc, d) => this.idToNumber.set(doc.id, d));
    this.docLengths = lengths;
    this.scores = new Float64Array(0);
    this.dirty = true;
    this.refresh();
  }

  /** Merges pending postings into the compact arrays and recomputes the collection statistics. */
  private refresh(): void {
    if (!this.dirty) return;
    const pending = this.pendingTerms.length;
    if (pending > 0) {
      const vocab = this.terms.length;
      const oldTerms = this.offsets.length - 1;
      const counts = new Uint32Array(vocab + 1);
      for (let t = 0; t < oldTerms; t++) counts[t + 1] = this.offsets[t + 1] - this.offsets[t];
      const pTerms = this.pendingTerms.data;
      const pDocs = this.pendingDocs.data;
      const pTfs = this.pendingTfs.data;
      let maxTf = this.postingTfs instanceof Uint16Array ? 0 : 65_536;
      for (let j = 0; j < pending; j++) {
        counts[pTerms[j] + 1] += 1;
        if (pTfs[j] > maxTf) maxTf = pTfs[j];
      }
      for (let t = 0; t < vocab; t++) counts[t + 1] += counts[t];
      const total = counts[vocab];
      const docs = new Uint32Array(total);
      const tfs = maxTf > 65_535 ? new Uint32Array(total) : new Uint16Array(total);
      const cursor = counts.slice(0, vocab);
      for (let t = 0; t < oldTerms; t++) {
        const from = this.offsets[t];
        const to = this.offsets[t + 1];
        docs.set(this.postingDocs.subarray(from, to), cursor[t]);
        tfs.set(this.postingTfs.subarray(from, to), cursor[t]);
        cursor[t] += to - from;
      }
      for (let j = 0; j < pending; j++) {
        const at = cursor[pTerms[j]]++;
        docs[at] = pDocs[j];
        tfs[at] = pTfs[j];
      }
      this.offsets = counts;
      this.postingDocs = docs;
      this.postingTfs = tfs;
      this.pendingTerms.length = this.pendingDocs.length = this.pendingTfs.length = 0;
    }
    this.recomputeNorms();
    this.dirty = false;
  }

  private recomputeNorms(): void {
    const n = this.documents.length;
    let docCount = 0;
    let total = 0;
    for (let d = 0; d < n; d++) {
      const length = this.docLengths[d];
      if (length > 0) docCount += 1;
      total += length;
    }
    this.docCount = docCount;
    const avgdl = docCount === 0 ? 1 : total / docCount;
    const norms = new Float64Array(n);
    for (let d = 0; d < n; d++) {
      const length = this.luceneLengthQuantization ? quantizedLength(this.docLengths[d]) : this.docLengths[d];
      norms[d] = this.k1 * (1 - this.b + (this.b * length) / avgdl);
    }
    this.docNorms = norms;
    if (this.scores.length !== n) this.scores = new Float64Array(n);
  }

  /**
   * The stored documents `ids` name (by the identity rule; `text:<start>` for one without an id), in the order of
   * `ids`, undefined where none matches; copies, as search results are.
   */
  async getDocuments(ids: readonly string[]): Promise<(Document | undefined)[]> {
    return documentsById(this.documents, ids).map((stored) => (stored ? copyDocument(stored) : undefined));
  }

  private toDocument(d: number): Document {
    const stored = this.documents[d];
    return copyDocument(stored);
  }

  /**
   * The `k` documents with the highest BM25 score for `query`, best first; documents sharing no term with the
   * query are not returned. A filter (predicate or metadata equality) is applied to every candidate before it can
   * enter the top `k`, so `k` passing documents come back whenever that many match.
   */
  async recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]> {
    checkQuery(query);
    if (!Number.isInteger(k) || k <= 0) {
      throw new InvalidArgumentError(
        `k must be a positive integer; got ${typeof k === "number" ? k : describeValue(k)}. Pass how many candidates to recall.`,
      );
    }
    if (filter !== undefined && typeof filter !== "function" && (typeof filter !== "object" || filter === null)) {
      throw new InvalidArgumentError(
        `filter must be a predicate or an object of metadata values; got ${describeValue(filter)}.`,
      );
    }
    if (filter !== undefined && typeof filter === "object") checkEqualityFilter(filter);
    const { docs, scores } = this.rank(query, k, filter);
    const out: RecallCandidate[] = new Array(docs.length);
    for (let i = 0; i < docs.length; i++) out[i] = { document: this.toDocument(docs[i]), score: scores[i] };
    return out;
  }

  /** The same ranking as {@link recall}, as `[document number, score]` pairs (benchmarks, tests). */
  search(query: string, k: number, filter?: RecallFilter): [number, number][] {
    const { docs, scores } = this.rank(query, k, filter);
    const out: [number, number][] = new Array(docs.length);
    for (let i = 0; i < docs.length; i++) out[i] = [docs[i], scores[i]];
    return out;
  }

  /**
   * The ranking itself: every posting of the query's terms adds `weight · tf / (tf + norm[d])` to its document's
   * score (Float64, in query-term order, so equal inputs give bit-identical scores), then the best `k` are selected.
   * Two ways, same result: when the query's postings reach {@link DENSE_POSTINGS_FRACTION} of the documents (half
   * of a 100k corpus for a typical query), no list of touched documents is kept and one pass over the score array in
   * document order selects them ({@link topKDense}); below it, a list of touched documents and a heap over it.
   */
  private rank(query: string, k: number, filter: RecallFilter | undefined): { docs: Int32Array; scores: Float64Array } {
    this.refresh();
    const queryTerms = new Map<number, number>();
    for (const token of this.analyzer.analyze(query)) {
      const term = this.vocabulary.get(token);
      if (term !== undefined) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1);
    }
    const scores = this.scores;
    const N = this.docCount;
    const offsets = this.offsets;
    const docs = this.postingDocs;
    const tfs = this.postingTfs;
    const norms = this.docNorms;
    let postings = 0;
    for (const term of queryTerms.keys()) postings += offsets[term + 1] - offsets[term];
    const dense = postings >= this.documents.length * DENSE_POSTINGS_FRACTION;
    const touched: number[] = [];
    for (const [term, count] of queryTerms) {
      const from = offsets[term];
      const to = offsets[term + 1];
      const df = to - from;
      if (df === 0) continue;
      const weight = count * Math.log(1 + (N - df + 0.5) / (df + 0.5));
      if (dense) {
        for (let p = from; p < to; p++) {
          const d = docs[p];
          const tf = tfs[p];
          scores[d] += (weight * tf) / (tf + norms[d]);
        }
      } else {
        for (let p = from; p < to; p++) {
          const d = docs[p];
          const tf = tfs[p];
          if (scores[d] === 0) touched.push(d);
          scores[d] += (weight * tf) / (tf + norms[d]);
        }
      }
    }
    if (dense) return this.topKDense(k, filter);
    try {
      return this.topK(touched, k, filter);
    } finally {
      for (const d of touched) scores[d] = 0;
    }
  }

  /**
   * The best `k` documents that pass `filter`, by one pass over the whole score array in document order, zeroing it
   * as it goes. A later document enters only with a score strictly above the worst kept one, which is the tie rule
   * (the earlier document wins) without comparing document numbers; most documents cost one comparison.
   */
  private topKDense(k: number, filter: RecallFilter | undefined): { docs: Int32Array; scores: Float64Array } {
    const scores = this.scores;
    const n = this.documents.length;
    const heap = new TopKHeap(Math.min(k, n));
    let floor = 0; // a document enters only above it: 0 (untouched documents score 0) until the heap is full
    try {
      for (let d = 0; d < n; d++) {
        const score = scores[d];
        scores[d] = 0;
        if (score <= floor || (filter !== undefined && !this.passes(d, filter))) continue;
        heap.push(d, score);
        if (heap.full) floor = heap.worstScore;
      }
    } catch (error) {
      scores.fill(0); // a filter threw mid-pass: leave the score array clean for the next query
      throw error;
    }
    return heap.drain();
  }

  /** Whether document `d` passes `filter` (a predicate sees a copy, never the stored document). */
  private passes(d: number, filter: RecallFilter | undefined): boolean {
    if (filter === undefined) return true;
    return matchesFilter(filter, typeof filter === "function" ? this.toDocument(d) : this.documents[d]);
  }

  /** Heap selection of the best `k` touched documents that pass `filter`; ties go to the earlier document. */
  private topK(
    touched: number[],
    k: number,
    filter: RecallFilter | undefined,
  ): { docs: Int32Array; scores: Float64Array } {
    const scores = this.scores;
    const heap = new TopKHeap(Math.min(k, touched.length));
    for (const d of touched) {
      const score = scores[d];
      if (heap.admits(d, score) && (filter === undefined || this.passes(d, filter))) heap.push(d, score);
    }
    return heap.drain();
  }

  /**
   * Writes the index files (`bm25.json`, `bm25.terms.json`, `bm25.postings.bin`, `bm25.docstore.jsonl`) into an
   * existing folder, e.g. the staging folder of a larger index, each fsynced; a full disk is an error naming the
   * file. Other files in the folder are left alone. Returns each file's sha256. The format: `bm25_files.ts`.
   */
  writeFiles(directory: string): Record<string, string> {
    this.refresh();
    return writeBm25Files(directory, {
      settings: {
        analyzer: this.analyzer.name,
        k1: this.k1,
        b: this.b,
        luceneLengthQuantization: this.luceneLengthQuantization,
      },
      terms: this.terms,
      documents: this.documents,
      offsets: this.offsets,
      postingDocs: this.postingDocs,
      postingTfs: this.postingTfs,
      docLengths: this.docLengths.subarray(0, this.documents.length),
    });
  }

  /**
   * Saves the index into `directory` crash-safely (written to a staging folder, published by one atomic rename of
   * the folder's `two-stage.json`, which records each file's sha256; after a kill at any point the old or the new
   * index loads). A folder that is not an index, a file, `.` or `""` is refused, never replaced; a save while
   * another is saving the same folder is refused. `manifest` adds top-level fields to `two-stage.json`.
   */
  async save(directory: string, manifest: Record<string, unknown> = {}): Promise<void> {
    await saveIndexFolder(directory, {
      kind: "BM25 index",
      markers: [Object.values(BM25_FILES)],
      parts: [this.indexPart()],
      manifest,
    });
  }

  /**
   * The index as one part of an index folder (the save pipeline writes it beside a FAISS part for a hybrid).
   * @internal
   */
  indexPart(): IndexPart {
    return {
      entry: "bm25",
      fields: { kind: "bm25", version: BM25_VERSION, documents: this.documents.length },
      write: (staging) => this.writeFiles(staging),
    };
  }

  /**
   * Loads an index written by {@link writeFiles} or {@link save}, without analyzing the documents again. Sizes and
   * shapes are checked; a missing, truncated or inconsistent file is an {@link IndexError}. `k1`, `b` and
   * `luceneLengthQuantization` default to the saved values; an analyzer whose name differs from the saved one is
   * refused (queries would not be analyzed as the documents were).
   */
  static async load(directory: string, params: Bm25IndexParams = {}): Promise<Bm25Index> {
    const data = readBm25Files(directory);
    const { settings } = data;
    const index = new Bm25Index({
      k1: params.k1 ?? settings.k1,
      b: params.b ?? settings.b,
      analyzer: params.analyzer,
      luceneLengthQuantization: params.luceneLengthQuantization ?? settings.luceneLengthQuantization,
    });
    if (index.analyzer.name !== settings.analyzer) {
      throw new InvalidArgumentError(
        `The index in ${directory} was built with the analyzer '${settings.analyzer}', but this load uses '${index.analyzer.name}'. Pass the analyzer the index was built with.`,
      );
    }
    data.terms.forEach((term, t) => {
      index.vocabulary.set(term, t);
      index.terms.push(term);
    });
    data.documents.forEach((doc, d) => {
      index.documents.push(doc);
      index.idToNumber.set(doc.id, d);
    });
    index.offsets = data.offsets;
    index.postingDocs = data.postingDocs;
    index.postingTfs = data.postingTfs;
    index.docLengths = data.docLengths;
    index.dirty = true;
    index.refresh();
    return index;
  }

  /** An index of `documents` (ids from `options.ids`, else each document's `id`, else random UUIDs). */
  static async fromDocuments(
    documents: DocumentInterface[],
    params: Bm25IndexParams = {},
    options?: { ids?: string[] },
  ): Promise<Bm25Index> {
    const index = new Bm25Index(params);
    await index.addDocuments(documents, options);
    index.refresh();
    return index;
  }

  /** An index of `texts`, with `metadatas` (one object per text, or one for all). */
  static async fromTexts(
    texts: string[],
    metadatas: object[] | object = {},
    params: Bm25IndexParams = {},
  ): Promise<Bm25Index> {
    return Bm25Index.fromDocuments(documentsFromTexts(texts, metadatas), params);
  }
}
