// What the rerank APIs have in common on the wire: results as (index, score) pairs in any order, which must name
// every input once.

/** One API's rerank call: where it posts, what it sends, how its answer reads. */
export interface RerankWire {
  /** The path appended to the server's base URL. */
  readonly path: string;
  /** The JSON body for one request. */
  body(query: string, texts: readonly string[]): unknown;
  /** The score of each text, in input order, from the parsed JSON answer; a description of the fault otherwise. */
  scores(answer: unknown, count: number): number[] | string;
}

/**
 * Scores in input order from `(index, score)` entries; a string saying what is wrong when an entry is malformed, an
 * index is out of range or repeated, or an input has no score.
 */
export function scoresByIndex(entries: unknown, count: number, scoreField: string, where: string): number[] | string {
  if (!Array.isArray(entries)) return `${where} is not an array`;
  const scores = new Array<number>(count).fill(Number.NaN);
  for (const [i, entry] of entries.entries()) {
    const { index } = (entry ?? {}) as { index?: unknown };
    const score = (entry as Record<string, unknown> | null)?.[scoreField];
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count) {
      return `${where}[${i}].index is ${JSON.stringify(index)}; expected an integer from 0 to ${count - 1}`;
    }
    if (typeof score !== "number" || !Number.isFinite(score)) {
      return `${where}[${i}].${scoreField} is ${JSON.stringify(score)}; expected a finite number`;
    }
    if (!Number.isNaN(scores[index])) return `${where} scores text ${index} twice`;
    scores[index] = score;
  }
  const missing = scores.findIndex((score) => Number.isNaN(score));
  if (missing >= 0) return `${where} has ${entries.length} results for ${count} texts (text ${missing} has none)`;
  return scores;
}
