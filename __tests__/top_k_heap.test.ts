import { TopKHeap } from "../src/recall/bm25/top_k_heap.js";
import { seededRandom, shuffled } from "./support/random.js";

/** The best `k` of `pairs` by sorting them all: score descending, then document number ascending. */
function sortedBest(pairs: [number, number][], k: number): [number, number][] {
  return [...pairs].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
}

function select(pairs: [number, number][], k: number): [number, number][] {
  const heap = new TopKHeap(k);
  for (const [d, score] of pairs) if (heap.admits(d, score)) heap.push(d, score);
  const { docs, scores } = heap.drain();
  return Array.from(docs, (d, i) => [d, scores[i]]);
}

describe("TopKHeap", () => {
  test("keeps the best k in any offering order, ties to the lower document number, drained best first", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed);
      const n = 1 + Math.floor(random() * 400);
      // few distinct scores: many ties, which the heap must break by document number whatever the order offered
      const levels = 1 + Math.floor(random() * 12);
      const pairs: [number, number][] = Array.from({ length: n }, (_, d) => [d, Math.floor(random() * levels) / 7]);
      for (const k of [1, 2, 5, 64, n, n + 3]) {
        const want = sortedBest(pairs, k);
        expect(select(pairs, Math.min(k, n))).toEqual(want); // document order (the dense pass)
        expect(select(shuffled(pairs, seed * 31 + k), Math.min(k, n))).toEqual(want); // any order (the touched list)
      }
    }
  });

  test("admits only a pair that beats the worst kept one once full; drain empties it", () => {
    const heap = new TopKHeap(2);
    expect(heap.full).toBe(false);
    heap.push(4, 1.5);
    heap.push(7, 2.5);
    expect(heap.full).toBe(true);
    expect(heap.worstScore).toBe(1.5);
    expect(heap.admits(9, 1.5)).toBe(false); // same score, later document: worse
    expect(heap.admits(2, 1.5)).toBe(true); // same score, earlier document: better
    expect(heap.admits(9, 1.4)).toBe(false);
    heap.push(2, 1.5);
    const { docs, scores } = heap.drain();
    expect([Array.from(docs), Array.from(scores)]).toEqual([
      [7, 2],
      [2.5, 1.5],
    ]);
    expect(heap.full).toBe(false);
    expect(heap.drain().docs).toHaveLength(0);
  });
});
