import fs from "node:fs";
import path from "node:path";

import type { RunEntry } from "./evaluate.js";

/**
 * Formats rankings as a standard TREC run file (`qid Q0 docid rank score tag`, one line per document, ranks from 1),
 * readable by trec_eval, ranx and ir_measures.
 */
export function formatTrecRun(run: ReadonlyMap<string, readonly RunEntry[]>, tag: string): string {
  const safeTag = tag.replace(/\s+/g, "_");
  const lines: string[] = [];
  for (const [queryId, entries] of run) {
    entries.forEach((entry, i) => {
      lines.push(`${queryId} Q0 ${entry.docId} ${i + 1} ${entry.score.toFixed(6)} ${safeTag}`);
    });
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** Writes a TREC run file, creating its folder. */
export function writeTrecRun(file: string, run: ReadonlyMap<string, readonly RunEntry[]>, tag: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, formatTrecRun(run, tag));
}
