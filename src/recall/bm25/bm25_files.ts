// The on-disk format of a BM25 index, apart from the index class: four files in one folder (a part of an index
// folder, see index_folder/), written with fsync and read back with every size and shape checked. A missing,
// truncated or inconsistent file is an IndexError naming the file; the reader never trusts a count it has not
// checked against the bytes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { IndexError } from "../../errors.js";
import { writeError, writeFileChecked } from "../index_folder/checked_write.js";
import { partFolder, verifyPartChecksums } from "../index_folder/index_manifest.js";

/** A document as a BM25 index stores it. */
export type StoredDocument = { id: string; pageContent: string; metadata: Record<string, unknown> };

/** The format and version `bm25.json` names. */
export const BM25_FORMAT = "two-stage-retriever/bm25";
/** The version of the format this package writes and reads. */
export const BM25_VERSION = 1;
const MAGIC = Buffer.from("TSBM25\u0000\u0001", "latin1");

/** The files of a BM25 index. */
export const BM25_FILES = {
  manifest: "bm25.json",
  terms: "bm25.terms.json",
  postings: "bm25.postings.bin",
  docstore: "bm25.docstore.jsonl",
} as const;

interface Manifest {
  format: string;
  version: number;
  analyzer: string;
  k1: number;
  b: number;
  luceneLengthQuantization: boolean;
  documents: number;
  terms: number;
  postings: number;
  tfBytes: 2 | 4;
}

/** The settings an index was built with, as `bm25.json` records them. */
export interface Bm25Settings {
  analyzer: string;
  k1: number;
  b: number;
  luceneLengthQuantization: boolean;
}

/** Everything a BM25 index holds: its settings, vocabulary, documents and postings (CSR by term). */
export interface Bm25Data {
  settings: Bm25Settings;
  /** Term t's text. */
  terms: readonly string[];
  documents: readonly StoredDocument[];
  /** Term t's postings are `offsets[t]..offsets[t+1]` of `postingDocs` / `postingTfs`. */
  offsets: Uint32Array<ArrayBuffer>;
  postingDocs: Uint32Array<ArrayBuffer>;
  postingTfs: Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;
  /** Each document's length in terms. */
  docLengths: Uint32Array<ArrayBuffer>;
}

function checkEndianness(): void {
  if (os.endianness() !== "LE") throw new IndexError("Bm25Index files are little-endian; this machine is not.");
}

/** Writes the four files into an existing folder (each fsynced) and returns each file's sha256. */
export function writeBm25Files(directory: string, data: Bm25Data): Record<string, string> {
  checkEndianness();
  const manifest: Manifest = {
    format: BM25_FORMAT,
    version: BM25_VERSION,
    ...data.settings,
    documents: data.documents.length,
    terms: data.terms.length,
    postings: data.postingDocs.length,
    tfBytes: data.postingTfs instanceof Uint16Array ? 2 : 4,
  };
  const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const write = (name: string, content: string | readonly Uint8Array[]): [string, string] => {
    const file = path.join(directory, name);
    try {
      return [name, writeFileChecked(file, content)];
    } catch (error) {
      throw writeError(file, error, "The BM25 index was not saved.");
    }
  };
  const lines = data.documents.map((doc) => JSON.stringify(doc));
  return Object.fromEntries([
    write(BM25_FILES.postings, [
      MAGIC,
      bytes(data.offsets),
      bytes(data.postingDocs),
      bytes(data.docLengths),
      bytes(data.postingTfs),
    ]),
    write(BM25_FILES.terms, JSON.stringify(data.terms)),
    write(BM25_FILES.docstore, lines.length > 0 ? `${lines.join("\n")}\n` : ""),
    write(BM25_FILES.manifest, `${JSON.stringify(manifest, null, 2)}\n`),
  ]);
}

/**
 * Reads the BM25 part of an index folder (or a folder of the four files), verifying the manifest's checksums and
 * every size and shape: postings sorted and within range, lengths equal to their postings' sums, terms unique,
 * documents with new ids.
 */
export function readBm25Files(directory: string): Bm25Data {
  const folder = partFolder(directory, ["bm25", "index"]);
  const file = (name: string): string => path.join(folder, name);
  for (const name of Object.values(BM25_FILES)) {
    if (!fs.existsSync(file(name))) {
      throw new IndexError(
        `${file(name)} is missing: '${directory}' holds no saved BM25 index (expected ${Object.values(BM25_FILES).join(", ")}).`,
      );
    }
  }
  verifyPartChecksums(directory, "bm25", folder, Object.values(BM25_FILES));
  const corrupt = (name: string, what: string, cause?: unknown): IndexError =>
    new IndexError(`${file(name)}: ${what}. The BM25 index is corrupt; rebuild it.`, { cause });
  const parseJson = (name: string): unknown => {
    try {
      return JSON.parse(fs.readFileSync(file(name), "utf8"));
    } catch (error) {
      throw corrupt(name, "not valid JSON", error);
    }
  };
  const manifest = checkManifest(parseJson(BM25_FILES.manifest), (what) => corrupt(BM25_FILES.manifest, what));
  const { documents: n, terms: vocab, postings: total, tfBytes } = manifest;

  const buffer = fs.readFileSync(file(BM25_FILES.postings));
  const expected = MAGIC.length + 4 * (vocab + 1) + 4 * total + 4 * n + tfBytes * total;
  if (buffer.length !== expected || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(
      BM25_FILES.postings,
      `expected ${expected} bytes starting with the BM25 marker for ${vocab} terms, ${total} postings and ${n} documents; got ${buffer.length}`,
    );
  }
  checkEndianness();
  // copy into fresh, aligned arrays (the file buffer may sit at any offset of Node's pool)
  let at = MAGIC.length;
  const take = <T extends Uint32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>>(
    make: (length: number) => T,
    length: number,
    width: number,
  ) => {
    const out = make(length);
    new Uint8Array(out.buffer).set(buffer.subarray(at, at + length * width));
    at += length * width;
    return out;
  };
  const offsets = take((l) => new Uint32Array(l), vocab + 1, 4);
  const postingDocs = take((l) => new Uint32Array(l), total, 4);
  const docLengths = take((l) => new Uint32Array(l), n, 4);
  const postingTfs =
    tfBytes === 2 ? take((l) => new Uint16Array(l), total, 2) : take((l) => new Uint32Array(l), total, 4);
  checkPostings(offsets, postingDocs, postingTfs, docLengths, (what) => corrupt(BM25_FILES.postings, what));

  const terms = parseJson(BM25_FILES.terms);
  if (!Array.isArray(terms) || terms.length !== vocab || terms.some((t) => typeof t !== "string")) {
    throw corrupt(BM25_FILES.terms, `expected a JSON array of ${vocab} strings`);
  }
  const seenTerms = new Set<string>();
  for (const term of terms as string[]) {
    if (seenTerms.has(term)) throw corrupt(BM25_FILES.terms, `the term ${JSON.stringify(term)} repeats`);
    seenTerms.add(term);
  }

  const documents = parseDocstore(fs.readFileSync(file(BM25_FILES.docstore), "utf8"), n, (what, cause) =>
    corrupt(BM25_FILES.docstore, what, cause),
  );
  const { analyzer, k1, b, luceneLengthQuantization } = manifest;
  return {
    settings: { analyzer, k1, b, luceneLengthQuantization },
    terms: terms as string[],
    documents,
    offsets,
    postingDocs,
    postingTfs,
    docLengths,
  };
}

/** Throws unless the postings are a valid CSR: offsets span them, documents ascend per term, lengths add up. */
function checkPostings(
  offsets: Uint32Array,
  docs: Uint32Array,
  tfs: Uint16Array | Uint32Array,
  lengths: Uint32Array,
  corrupt: (what: string) => IndexError,
): void {
  const vocab = offsets.length - 1;
  const total = docs.length;
  const n = lengths.length;
  if (offsets[0] !== 0 || offsets[vocab] !== total) throw corrupt(`term offsets do not span the ${total} postings`);
  const sums = new Float64Array(n);
  for (let t = 0; t < vocab; t++) {
    const from = offsets[t];
    const to = offsets[t + 1];
    if (to < from || to > total) throw corrupt(`term ${t} has offsets ${from}..${to}`);
    let previous = -1;
    for (let p = from; p < to; p++) {
      const d = docs[p];
      if (d >= n || d <= previous || tfs[p] === 0) {
        throw corrupt(`posting ${p} (term ${t}) names document ${d} with frequency ${tfs[p]}`);
      }
      previous = d;
      sums[d] += tfs[p];
    }
  }
  for (let d = 0; d < n; d++) {
    if (sums[d] !== lengths[d]) {
      throw corrupt(`document ${d} has length ${lengths[d]} but its postings sum to ${sums[d]}`);
    }
  }
}

/** The manifest's fields, checked: the format and version, and counts that are whole numbers. */
function checkManifest(value: unknown, corrupt: (what: string) => IndexError): Manifest {
  const manifest = value as Partial<Manifest> | null;
  const count = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
  if (
    typeof manifest !== "object" ||
    manifest === null ||
    manifest.format !== BM25_FORMAT ||
    manifest.version !== BM25_VERSION ||
    typeof manifest.analyzer !== "string" ||
    typeof manifest.k1 !== "number" ||
    typeof manifest.b !== "number" ||
    typeof manifest.luceneLengthQuantization !== "boolean" ||
    !count(manifest.documents) ||
    !count(manifest.terms) ||
    !count(manifest.postings) ||
    (manifest.tfBytes !== 2 && manifest.tfBytes !== 4)
  ) {
    throw corrupt(`not a ${BM25_FORMAT} version ${BM25_VERSION} manifest`);
  }
  return manifest as Manifest;
}

/** The documents of `bm25.docstore.jsonl`: `n` JSON lines, each a document with a string id not seen before. */
function parseDocstore(
  text: string,
  n: number,
  corrupt: (what: string, cause?: unknown) => IndexError,
): StoredDocument[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length !== n) {
    throw corrupt(`expected ${n} documents (one JSON object a line); got ${lines.length} lines`);
  }
  const ids = new Set<string>();
  return lines.map((line, d): StoredDocument => {
    let doc: Partial<StoredDocument> | null;
    try {
      doc = JSON.parse(line) as Partial<StoredDocument> | null;
    } catch (error) {
      throw corrupt(`line ${d + 1} is not valid JSON`, error);
    }
    if (
      typeof doc !== "object" ||
      doc === null ||
      typeof doc.id !== "string" ||
      typeof doc.pageContent !== "string" ||
      typeof doc.metadata !== "object" ||
      doc.metadata === null ||
      ids.has(doc.id)
    ) {
      throw corrupt(`line ${d + 1} is not a {id, pageContent, metadata} document with a new id`);
    }
    ids.add(doc.id);
    return { id: doc.id, pageContent: doc.pageContent, metadata: doc.metadata };
  });
}
