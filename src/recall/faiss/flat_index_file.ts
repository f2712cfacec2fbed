import { createHash } from "node:crypto";
import fs from "node:fs";

import { IndexError, InvalidArgumentError } from "../../errors.js";
import { describeValue } from "../../validation.js";
import { writeError, writeFileChecked } from "../index_folder/checked_write.js";

/**
 * The faiss file format of flat indexes (`IndexFlatIP` "IxFI", `IndexFlatL2` "IxF2"), little-endian:
 * fourcc, d:int32, ntotal:int64, two int64 placeholders (1 << 20), is_trained:u8, metric:int32 (0 inner product,
 * 1 L2), count:uint64 (= ntotal·d), then ntotal·d float32 values.
 *
 * faiss-node's `add()` converts a JS array element by element (100k×384 vectors take ~13 s); writing this file from
 * a Float32Array and loading it with `IndexFlatIP.read` takes well under a second. Reading it back lets an old
 * `FaissStore` (L2) index be converted to inner product.
 */
const HEADER_BYTES = 45;
const PLACEHOLDER = 1n << 20n;
/** Largest dimension accepted from a file (faiss has no limit; no embedding model comes near it). */
const MAX_DIM = 1 << 16;
/** Bytes read per step when scanning a file (hash + vector checks). */
const SCAN_CHUNK = 16 << 20;
/** A row whose squared norm differs from 1 by more than this is "not normalised". */
const UNIT_TOLERANCE = 1e-4;

export type FlatMetric = "ip" | "l2";

/**
 * `vectors` (row-major, `dim` columns) as the bytes of a faiss flat index file: for `IndexFlatIP.fromBuffer`, or to
 * write to disk. Every argument is checked (faiss aborts the process on a malformed buffer).
 */
export function flatIndexBytes(vectors: Float32Array, dim: number, metric: FlatMetric = "ip"): Buffer {
  if (!(vectors instanceof Float32Array)) {
    throw new InvalidArgumentError(`vectors must be a Float32Array (row-major); got ${describeValue(vectors)}.`);
  }
  if (!Number.isInteger(dim) || dim <= 0 || dim > MAX_DIM) {
    throw new InvalidArgumentError(`dim must be an integer in [1, ${MAX_DIM}]; got ${describeValue(dim)}.`);
  }
  if (metric !== "ip" && metric !== "l2") {
    throw new InvalidArgumentError(`Unknown metric ${describeValue(metric)}. Expected one of: ip, l2.`);
  }
  if (vectors.length % dim !== 0) {
    throw new InvalidArgumentError(
      `Cannot write ${vectors.length} floats as vectors of dimension ${dim}: not a whole number of rows.`,
    );
  }
  const ntotal = vectors.length / dim;
  const bytes = Buffer.alloc(HEADER_BYTES + vectors.byteLength);
  bytes.write(metric === "ip" ? "IxFI" : "IxF2", 0, "latin1");
  bytes.writeInt32LE(dim, 4);
  bytes.writeBigInt64LE(BigInt(ntotal), 8);
  bytes.writeBigInt64LE(PLACEHOLDER, 16);
  bytes.writeBigInt64LE(PLACEHOLDER, 24);
  bytes.writeUInt8(1, 32);
  bytes.writeInt32LE(metric === "ip" ? 0 : 1, 33);
  bytes.writeBigUInt64LE(BigInt(vectors.length), 37);
  bytes.set(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), HEADER_BYTES);
  return bytes;
}

/** Writes `vectors` (row-major, `dim` columns) as a faiss flat index file; a full disk is an {@link IndexError}. */
export function writeFlatIndex(file: string, vectors: Float32Array, dim: number, metric: FlatMetric = "ip"): void {
  if (typeof file !== "string" || file === "") {
    throw new InvalidArgumentError(`file must be a path; got ${describeValue(file)}.`);
  }
  const bytes = flatIndexBytes(vectors, dim, metric);
  try {
    writeFileChecked(file, bytes);
  } catch (error) {
    throw writeError(file, error, "The index file is incomplete; do not load it.");
  }
}

function corrupt(file: string, what: string): IndexError {
  return new IndexError(`${file} is corrupt: ${what}. Restore it from a backup or rebuild the index.`);
}

/**
 * The header of a faiss flat index file: metric, dimension, vector count. Every field is checked — fourcc, the
 * metric (0 inner product with "IxFI", 1 L2 with "IxF2"; anything else would abort faiss or mislabel scores), the
 * fixed placeholders and `is_trained`, and the sizes against the file length — so no header value can reach a
 * faiss assertion. Anything else is an {@link IndexError}.
 */
export function readFlatIndexHeader(file: string): { metric: FlatMetric; dim: number; ntotal: number } {
  if (typeof file !== "string" || file === "") {
    throw new InvalidArgumentError(`file must be a path; got ${describeValue(file)}.`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    throw new IndexError(`Cannot open ${file}: ${(error as Error).message}.`, { cause: error });
  }
  let read: number;
  let size: number;
  try {
    read = fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    size = fs.fstatSync(fd).size;
  } finally {
    fs.closeSync(fd);
  }
  const fourcc = header.subarray(0, 4).toString("latin1");
  if (read < HEADER_BYTES || (fourcc !== "IxFI" && fourcc !== "IxF2")) {
    throw new IndexError(
      `${file} is not a flat faiss index (starts with '${fourcc}', ${size} bytes). Only IndexFlatIP / IndexFlatL2 ` +
        "files (as written by FaissStore.save or this package) can be loaded; rebuild the index from the documents.",
    );
  }
  const dim = header.readInt32LE(4);
  const ntotal = header.readBigInt64LE(8);
  const metricField = header.readInt32LE(33);
  const expectedMetric = fourcc === "IxFI" ? 0 : 1;
  if (metricField !== expectedMetric) {
    throw corrupt(
      file,
      `metric field is ${metricField}, but a '${fourcc}' index has metric ${expectedMetric} (${fourcc === "IxFI" ? "inner product" : "L2"})`,
    );
  }
  if (header.readBigInt64LE(16) !== PLACEHOLDER || header.readBigInt64LE(24) !== PLACEHOLDER) {
    throw corrupt(file, "the fixed header fields at bytes 16–31 do not hold 1 << 20");
  }
  if (header.readUInt8(32) !== 1) throw corrupt(file, `is_trained is ${header.readUInt8(32)}, not 1`);
  if (dim <= 0 || dim > MAX_DIM) throw corrupt(file, `dimension ${dim} is outside [1, ${MAX_DIM}]`);
  const count = header.readBigUInt64LE(37);
  if (ntotal < 0n || count !== ntotal * BigInt(dim) || BigInt(size) !== BigInt(HEADER_BYTES) + count * 4n) {
    throw corrupt(
      file,
      `header says ${ntotal} vectors of dimension ${dim} (${count} floats) but the file has ${size - HEADER_BYTES} data bytes`,
    );
  }
  return { metric: fourcc === "IxFI" ? "ip" : "l2", dim, ntotal: Number(ntotal) };
}

/** Reads a faiss flat index file: its metric, dimension and vectors. */
export function readFlatIndex(file: string): { metric: FlatMetric; dim: number; vectors: Float32Array } {
  const { metric, dim, ntotal } = readFlatIndexHeader(file);
  const bytes = fs.readFileSync(file);
  const vectors = new Float32Array(ntotal * dim);
  new Uint8Array(vectors.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + vectors.byteLength));
  return { metric, dim, vectors };
}

/** What {@link scanFlatIndex} found. */
export interface FlatIndexScan {
  metric: FlatMetric;
  dim: number;
  ntotal: number;
  /** sha256 of the whole file, hex ("" when not asked for). */
  sha256: string;
  /** First row that is not finite or all zeros, else -1. */
  badRow: number;
  /** Rows whose L2 norm is not 1 (within 1e-4 on the squared norm). */
  notUnit: number;
}

/**
 * Checks a flat index file in one streaming pass with bounded memory (16 MB at a time): the header, every vector
 * (finite, non-zero, unit length or not) and, with `sha256: true` (the default), the sha256 of the whole file.
 */
export function scanFlatIndex(file: string, options: { sha256?: boolean } = {}): FlatIndexScan {
  const { metric, dim, ntotal } = readFlatIndexHeader(file);
  const hash = options.sha256 === false ? undefined : createHash("sha256");
  const rowBytes = dim * 4;
  const rowsPerChunk = Math.max(1, Math.floor(SCAN_CHUNK / rowBytes));
  const buffer = new ArrayBuffer(rowsPerChunk * rowBytes);
  const bytes = new Uint8Array(buffer);
  const floats = new Float32Array(buffer);
  let badRow = -1;
  let notUnit = 0;
  const fd = fs.openSync(file, "r");
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    hash?.update(header);
    let position = HEADER_BYTES;
    for (let row = 0; row < ntotal; row += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, ntotal - row);
      const length = rows * rowBytes;
      let got = 0;
      while (got < length) {
        const n = fs.readSync(fd, bytes, got, length - got, position + got);
        if (n === 0) throw corrupt(file, "it ended early while reading vectors");
        got += n;
      }
      position += length;
      hash?.update(bytes.subarray(0, length));
      for (let r = 0; r < rows; r++) {
        let norm = 0;
        const offset = r * dim;
        for (let j = 0; j < dim; j++) norm += floats[offset + j] * floats[offset + j];
        if (!Number.isFinite(norm) || norm === 0) {
          if (badRow < 0) badRow = row + r;
        } else if (Math.abs(norm - 1) > UNIT_TOLERANCE) {
          notUnit += 1;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { metric, dim, ntotal, sha256: hash?.digest("hex") ?? "", badRow, notUnit };
}
