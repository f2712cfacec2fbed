import fs from "node:fs";

import { IndexError } from "../errors.js";

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

export type FlatMetric = "ip" | "l2";

/** Writes `vectors` (row-major, `dim` columns) as a faiss flat index file. */
export function writeFlatIndex(file: string, vectors: Float32Array, dim: number, metric: FlatMetric = "ip"): void {
  if (vectors.length % dim !== 0) {
    throw new IndexError(
      `Cannot write ${vectors.length} floats as vectors of dimension ${dim}: not a whole number of rows.`,
    );
  }
  const ntotal = vectors.length / dim;
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(metric === "ip" ? "IxFI" : "IxF2", 0, "latin1");
  header.writeInt32LE(dim, 4);
  header.writeBigInt64LE(BigInt(ntotal), 8);
  header.writeBigInt64LE(1n << 20n, 16);
  header.writeBigInt64LE(1n << 20n, 24);
  header.writeUInt8(1, 32);
  header.writeInt32LE(metric === "ip" ? 0 : 1, 33);
  header.writeBigUInt64LE(BigInt(vectors.length), 37);
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, header);
    fs.writeSync(fd, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  } finally {
    fs.closeSync(fd);
  }
}

/** The header of a faiss flat index file: metric, dimension, vector count. Anything else is an {@link IndexError}. */
export function readFlatIndexHeader(file: string): { metric: FlatMetric; dim: number; ntotal: number } {
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = fs.openSync(file, "r");
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
      `${file} is not a flat faiss index (starts with '${fourcc}'). Only IndexFlatIP / IndexFlatL2 files ` +
        "(as written by FaissStore.save or this package) can be loaded; rebuild the index from the documents.",
    );
  }
  const dim = header.readInt32LE(4);
  const ntotal = Number(header.readBigInt64LE(8));
  const count = Number(header.readBigUInt64LE(37));
  if (dim <= 0 || count !== ntotal * dim || size !== HEADER_BYTES + count * 4) {
    throw new IndexError(
      `${file} is corrupt: header says ${ntotal} vectors of dimension ${dim} (${count} floats) but the file has ` +
        `${size - HEADER_BYTES} data bytes. Restore it from a backup or rebuild the index.`,
    );
  }
  return { metric: fourcc === "IxFI" ? "ip" : "l2", dim, ntotal };
}

/** Reads a faiss flat index file: its metric, dimension and vectors. */
export function readFlatIndex(file: string): { metric: FlatMetric; dim: number; vectors: Float32Array } {
  const { metric, dim, ntotal } = readFlatIndexHeader(file);
  const bytes = fs.readFileSync(file);
  const vectors = new Float32Array(ntotal * dim);
  new Uint8Array(vectors.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + vectors.byteLength));
  return { metric, dim, vectors };
}
