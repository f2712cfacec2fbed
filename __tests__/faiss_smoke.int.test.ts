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

  test("one call with all 20 queries (FAISS hands ≥ 20 to BLAS sgemm) gives each query's brute-force top-10", () => {
    const got = index.search(Array.from(queries), K);
    expect(got.labels).toHaveLength(QUERIES * K);
    for (let q = 0; q < QUERIES; q++) {
      const expected = bruteForceTopK(data, queries.subarray(q * DIM, (q + 1) * DIM), K);
      expect(got.labels.slice(q * K, (q + 1) * K)).toEqual(expected.labels);
      got.distances.slice(q * K, (q + 1) * K).forEach((score, i) => expect(score).toBeCloseTo(expected.scores[i], 5));
    }
  });

  test("on Debian, faiss-node runs BLAS on OpenBLAS's OpenMP build (setup-faiss), not a second thread pool", () => {
    const maps = fs.readFileSync("/proc/self/maps", "utf8");
    const openblas = [...new Set(maps.split("\n").filter((line) => /libopenblas/.test(line)))].map((line) =>
      line.trim().split(/\s+/).pop(),
    );
    expect(openblas.length).toBeGreaterThan(0);
    if (fs.existsSync("/etc/debian_version")) {
      for (const file of openblas) expect(file).toContain("/openblas-openmp/");
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
