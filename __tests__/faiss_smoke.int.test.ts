import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { loadFaiss } from "../src/recall/faiss/faiss_native.js";
import { randomUnitVectors } from "./support/random.js";

const DIM = 384;
const COUNT = 2000;
const QUERIES = 20;
const K = 10;

/** Exhaustive inner-product top-k computed in TypeScript (float64 accumulation), best first. */
function bruteForceTopK(data: Float32Array, query: Float32Array, k: number): { labels: number[]; scores: number[] } {
  const scored: { label: number; score: number }[] = [];
  for (let row = 0; row < COUNT; row++) {
    let dot = 0;
    for (let j = 0; j < DIM; j++) dot += data[row * DIM + j] * query[j];
    scored.push({ label: row, score: dot });
  }
  scored.sort((a, b) => b.score - a.score);
  const top = scored.slice(0, k);
  return { labels: top.map((s) => s.label), scores: top.map((s) => s.score) };
}

describe("faiss-node (real native code)", () => {
  const faiss = loadFaiss();
  const data = randomUnitVectors(COUNT, DIM, 7);
  const queries = randomUnitVectors(QUERIES, DIM, 8);
  const index = new faiss.IndexFlatIP(DIM);
  index.add(Array.from(data));

  test("IndexFlatIP returns exactly the brute-force top-10 for 20 queries", () => {
    expect(index.ntotal()).toBe(COUNT);
    for (let q = 0; q < QUERIES; q++) {
      const query = queries.subarray(q * DIM, (q + 1) * DIM);
      const expected = bruteForceTopK(data, query, K);
      const got = index.search(Array.from(query), K);
      expect(got.labels).toEqual(expected.labels);
      got.distances.forEach((score, i) => expect(score).toBeCloseTo(expected.scores[i], 5));
    }
  });

  test("one call with 32 queries (FAISS hands a batch of ≥ 20 to BLAS sgemm) gives each query's brute-force top-10", () => {
    const BATCH = 32;
    const batch = randomUnitVectors(BATCH, DIM, 9);
    const got = index.search(Array.from(batch), K);
    expect(got.labels).toHaveLength(BATCH * K);
    for (let q = 0; q < BATCH; q++) {
      const expected = bruteForceTopK(data, batch.subarray(q * DIM, (q + 1) * DIM), K);
      expect(got.labels.slice(q * K, (q + 1) * K)).toEqual(expected.labels);
      got.distances.slice(q * K, (q + 1) * K).forEach((score, i) => expect(score).toBeCloseTo(expected.scores[i], 5));
    }
  });

  test("loads the OpenBLAS that setup-faiss chose (on Debian: the OpenMP build, sharing FAISS's threads)", () => {
    if (process.platform !== "linux") return; // /proc/self/maps is Linux's
    const mapped = [
      ...new Set(
        fs
          .readFileSync("/proc/self/maps", "utf8")
          .split("\n")
          .map((line) => line.trim().split(/\s+/).pop() ?? "")
          .filter((file) => /libopenblas/.test(file)),
      ),
    ];
    const builtFile = path.resolve("node_modules/faiss-node/build/two-stage-faiss.json");
    if (!fs.existsSync(builtFile)) {
      // faiss-node's own prebuilt binary: at most one OpenBLAS (it may link one statically).
      expect(mapped.length).toBeLessThanOrEqual(1);
      return;
    }
    const built = JSON.parse(fs.readFileSync(builtFile, "utf8")) as { runtimeBlasDir?: string; openblasDir: string };
    expect(mapped).toHaveLength(1);
    expect(mapped[0].startsWith(built.runtimeBlasDir ?? built.openblasDir)).toBe(true);
    if (fs.existsSync("/etc/debian_version") && process.getuid?.() === 0) {
      // As root on Debian setup-faiss installs and links the OpenMP build (libopenblas0-openmp).
      expect(built.runtimeBlasDir).toMatch(/openblas-openmp$/);
    }
  });

  test("write/read round trip gives identical results", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faiss-smoke-"));
    try {
      const file = path.join(dir, "index.faiss");
      index.write(file);
      const reread = faiss.IndexFlatIP.read(file);
      expect(reread.ntotal()).toBe(COUNT);
      expect(reread.getDimension()).toBe(DIM);
      for (let q = 0; q < QUERIES; q++) {
        const query = Array.from(queries.subarray(q * DIM, (q + 1) * DIM));
        expect(reread.search(query, K)).toEqual(index.search(query, K));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
