import fs from "node:fs";
import path from "node:path";

import type { RunEntry } from "./evaluate.js";

const bits = new DataView(new ArrayBuffer(8));

/** The largest double below `x` (finite `x`). */
function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  bits.setFloat64(0, x);
  const raw = bits.getBigInt64(0);
  bits.setBigInt64(0, x > 0 ? raw - 1n : raw + 1n);
  return bits.getFloat64(0);
}

/**
 * Formats rankings as a standard TREC run file (`qid Q0 docid rank score tag`, one line per document, ranks from 1),
 * readable by trec_eval, ranx and ir_measures. Scores are written at full precision (shortest round-trip form).
 * trec_eval orders by score and breaks ties by document id, not by rank, so where a ranking holds tied scores each
 * later one is written one ulp (the next double) below the one before: the file then orders exactly as the ranking
 * does, and every metric computed from it equals this package's.
 */
export function formatTrecRun(run: ReadonlyMap<string, readonly RunEntry[]>, tag: string): string {
  const safeTag = tag.replace(/\s+/g, "_");
  const lines: string[] = [];
  for (const [queryId, entries] of run) {
    let previous = Number.POSITIVE_INFINITY;
    entries.forEach((entry, i) => {
      const score = entry.score < previous ? entry.score : nextDown(previous);
      previous = score;
      lines.push(`${queryId} Q0 ${entry.docId} ${i + 1} ${String(score)} ${safeTag}`);
    });
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** Writes a TREC run file, creating its folder. */
export function writeTrecRun(file: string, run: ReadonlyMap<string, readonly RunEntry[]>, tag: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, formatTrecRun(run, tag));
}
