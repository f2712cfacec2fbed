/**
 * Ranking metrics with trec_eval semantics, for one query: `ranking` is the retrieved document ids best first,
 * `judgments` maps relevant document ids to their grade (> 0). Documents without a judgment are not relevant.
 * Every metric is 0 for an empty ranking; a query without relevant documents should not be averaged (trec_eval
 * skips it).
 */

export type Judgments = ReadonlyMap<string, number>;

function relevantCount(judgments: Judgments): number {
  let n = 0;
  for (const grade of judgments.values()) if (grade > 0) n += 1;
  return n;
}

/** nDCG@k: gain = judged grade, discount log2(rank + 1), ideal DCG from the judgments (trec_eval ndcg_cut). */
export function ndcgAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    const grade = judgments.get(id) ?? 0;
    if (grade > 0) dcg += grade / Math.log2(i + 2);
  });
  const ideal = [...judgments.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  ideal.slice(0, k).forEach((grade, i) => {
    idcg += grade / Math.log2(i + 2);
  });
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Recall@k: relevant documents in the top k over all relevant documents. */
export function recallAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const total = relevantCount(judgments);
  if (total === 0) return 0;
  return ranking.slice(0, k).filter((id) => (judgments.get(id) ?? 0) > 0).length / total;
}

/** Precision@k: relevant documents in the top k over k (trec_eval P_k: missing ranks count as non-relevant). */
export function precisionAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  return ranking.slice(0, k).filter((id) => (judgments.get(id) ?? 0) > 0).length / k;
}

/** MRR@k: 1 / rank of the first relevant document within the top k, else 0. */
export function mrrAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const index = ranking.slice(0, k).findIndex((id) => (judgments.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

/** MAP@k (trec_eval map_cut): precision at each relevant rank within k, summed, over all relevant documents. */
export function averagePrecisionAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const total = relevantCount(judgments);
  if (total === 0) return 0;
  let hits = 0;
  let sum = 0;
  ranking.slice(0, k).forEach((id, i) => {
    if ((judgments.get(id) ?? 0) > 0) {
      hits += 1;
      sum += hits / (i + 1);
    }
  });
  return sum / total;
}

/** Mean over queries. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The q-quantile (0..1) of `values` by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
