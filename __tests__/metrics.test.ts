import { averagePrecisionAt, mrrAt, ndcgAt, precisionAt, quantile, recallAt } from "../src/eval/metrics.js";
import { seededRandom } from "./support/random.js";

const judged = (entries: [string, number][]) => new Map(entries);

describe("metrics, hand-computed", () => {
  // Ranking d1..d5; relevant: d1 (grade 3), d3 (grade 1), d9 (grade 2, not retrieved).
  const ranking = ["d1", "d2", "d3", "d4", "d5"];
  const qrels = judged([
    ["d1", 3],
    ["d3", 1],
    ["d9", 2],
  ]);

  test("nDCG@5 with graded gains and log2 discount", () => {
    const dcg = 3 / Math.log2(2) + 1 / Math.log2(4); // 3 + 0.5
    const idcg = 3 / Math.log2(2) + 2 / Math.log2(3) + 1 / Math.log2(4); // 3 + 1.26186 + 0.5
    expect(ndcgAt(ranking, qrels, 5)).toBeCloseTo(dcg / idcg, 10);
    expect(ndcgAt(ranking, qrels, 5)).toBeCloseTo(0.735, 3);
    expect(ndcgAt(ranking, qrels, 1)).toBeCloseTo(1, 10);
  });

  test("Recall, Precision, MRR and MAP at cut-offs", () => {
    expect(recallAt(ranking, qrels, 5)).toBeCloseTo(2 / 3, 10);
    expect(recallAt(ranking, qrels, 2)).toBeCloseTo(1 / 3, 10);
    expect(precisionAt(ranking, qrels, 5)).toBeCloseTo(0.4, 10);
    expect(precisionAt(ranking, qrels, 10)).toBeCloseTo(0.2, 10); // missing ranks count as non-relevant
    expect(mrrAt(["x", "d3", "d1"], qrels, 10)).toBeCloseTo(0.5, 10);
    expect(mrrAt(["x", "y", "d1"], qrels, 2)).toBe(0);
    // AP@5 = (1/1 + 2/3) / 3 relevant
    expect(averagePrecisionAt(ranking, qrels, 5)).toBeCloseTo((1 + 2 / 3) / 3, 10);
  });

  test("empty results and no relevant documents give 0", () => {
    for (const metric of [ndcgAt, recallAt, precisionAt, mrrAt, averagePrecisionAt]) {
      expect(metric([], qrels, 10)).toBe(0);
      expect(metric(ranking, new Map(), 10)).toBe(0);
    }
  });

  test("quantile by nearest rank", () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(quantile([], 0.5)).toBe(0);
  });
});

/**
 * An independent computation: nDCG from the brute-force best permutation of the judged grades (not a sort),
 * precision/recall from set intersections, AP from its definition as the mean of P@rank over relevant documents.
 */
function reference(ranking: string[], qrels: Map<string, number>, k: number) {
  const top = ranking.slice(0, k);
  const gains = top.map((id) => qrels.get(id) ?? 0);
  const dcg = gains.reduce((sum, g, i) => sum + (g > 0 ? g / Math.log2(i + 2) : 0), 0);
  const grades = [...qrels.values()].filter((g) => g > 0);
  let idcg = 0;
  const permute = (rest: number[], prefix: number[]) => {
    if (rest.length === 0 || prefix.length === k) {
      idcg = Math.max(
        idcg,
        prefix.reduce((sum, g, i) => sum + g / Math.log2(i + 2), 0),
      );
      return;
    }
    rest.forEach((g, i) => permute([...rest.slice(0, i), ...rest.slice(i + 1)], [...prefix, g]));
  };
  permute(grades, []);
  const relevant = new Set([...qrels.entries()].filter(([, g]) => g > 0).map(([id]) => id));
  const hits = top.filter((id) => relevant.has(id));
  const precisionAtRank = (r: number) => top.slice(0, r).filter((id) => relevant.has(id)).length / r;
  const ap =
    top.reduce((sum, id, i) => sum + (relevant.has(id) ? precisionAtRank(i + 1) : 0), 0) / (relevant.size || 1);
  const firstHit = top.findIndex((id) => relevant.has(id));
  return {
    ndcg: idcg === 0 ? 0 : dcg / idcg,
    recall: relevant.size === 0 ? 0 : hits.length / relevant.size,
    precision: hits.length / k,
    mrr: firstHit < 0 ? 0 : 1 / (firstHit + 1),
    ap: relevant.size === 0 ? 0 : ap,
  };
}

test("metrics agree with an independent computation on 200 random graded cases", () => {
  const random = seededRandom(2024);
  for (let c = 0; c < 200; c++) {
    const pool = Array.from({ length: 12 }, (_, i) => `d${i}`);
    const qrels = new Map<string, number>();
    for (const id of pool) if (random() < 0.35) qrels.set(id, 1 + Math.floor(random() * 4));
    const ranking = pool.filter(() => random() < 0.8).sort(() => random() - 0.5);
    const k = 1 + Math.floor(random() * 10);
    const expected = reference(ranking, qrels, k);
    expect(ndcgAt(ranking, qrels, k)).toBeCloseTo(expected.ndcg, 10);
    expect(recallAt(ranking, qrels, k)).toBeCloseTo(expected.recall, 10);
    expect(precisionAt(ranking, qrels, k)).toBeCloseTo(expected.precision, 10);
    expect(mrrAt(ranking, qrels, k)).toBeCloseTo(expected.mrr, 10);
    expect(averagePrecisionAt(ranking, qrels, k)).toBeCloseTo(expected.ap, 10);
  }
});
