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
