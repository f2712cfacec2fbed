// What integrity checking costs on load at 1M × 384 (1.5 GB of vectors). `npm run bench:checksum`.
// Times, on the same file: a plain read (the floor: the bytes must be read anyway), sha256 only, and scanFlatIndex
// (header + sha256 + every vector checked finite / non-zero / unit), the pass FaissVectorStore.load makes.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { scanFlatIndex, writeFlatIndex } from "../src/recall/faiss/flat_index_file.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";

const COUNT = Number(process.env.CHECKSUM_BENCH_N ?? 1_000_000);
const DIM = 384;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-checksum-"));
const file = path.join(dir, "faiss.index");

function timed<T>(fn: () => T): [T, number] {
  const started = performance.now();
  const value = fn();
  return [value, performance.now() - started];
}

function readAll(hash?: ReturnType<typeof createHash>): number {
  const chunk = Buffer.alloc(16 << 20);
  const fd = fs.openSync(file, "r");
  let total = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, total);
      if (n === 0) break;
      hash?.update(chunk.subarray(0, n));
      total += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

try {
  writeFlatIndex(file, randomUnitVectors(COUNT, DIM, 1), DIM, "ip");
  const gb = fs.statSync(file).size / 1e9;
  readAll(); // warm the page cache: every variant then reads from memory
  const rows: [string, number][] = [];
  for (let run = 0; run < 3; run++) {
    rows.push(["plain read", timed(() => readAll())[1]]);
    rows.push(["read + sha256", timed(() => readAll(createHash("sha256")))[1]]);
    rows.push([
      "vector checks only (verifyChecksums: false, or no manifest)",
      timed(() => scanFlatIndex(file, { sha256: false }))[1],
    ]);
    rows.push(["scanFlatIndex (sha256 + vector checks), what load does", timed(() => scanFlatIndex(file))[1]]);
  }
  console.log(`${COUNT} × ${DIM} (${gb.toFixed(2)} GB), page cache warm, best of 3:`);
  for (const name of new Set(rows.map(([n]) => n))) {
    const best = Math.min(...rows.filter(([n]) => n === name).map(([, ms]) => ms));
    console.log(`  ${name}: ${(best / 1000).toFixed(2)} s (${(gb / (best / 1000)).toFixed(2)} GB/s)`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
