// What the scripts of this folder share: the output folder (their first argument), SciFact's folder, the run files.
import fs from "node:fs";
import path from "node:path";

/** SciFact in BEIR layout, read in place (run.sh exports the same value). */
export const SCIFACT_DIR = process.env.TSR_SCIFACT_DIR ?? "/work/shared/datasets/scifact";

/** query id → [docid, score] best first (Lucene's raw list carries its internal docid as a third entry). */
export type Run = Record<string, [string, number][]>;

/** lucene_run.json: SimpleSearcher's top 100 as the bench reads it, and IndexSearcher's raw float scores (top 1000). */
export interface LuceneRun {
  lucene: string;
  simple: Run;
  raw: Run;
}

/** The folder run.sh writes into, given as the first argument. */
export function outDir(): string {
  const dir = process.argv[2];
  if (!dir || !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(
      `Expected the output folder of run.sh as the first argument; got ${dir ?? "nothing"}. Run peers/bm25_vs_anserini/run.sh.`,
    );
  }
  return dir;
}

/** Reads a JSON file that an earlier step of run.sh wrote into `dir`. */
export function readJson<T>(dir: string, name: string): T {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing; an earlier step of run.sh writes it. Run run.sh.`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Anserini's order (SimpleSearcher's BREAK_SCORE_TIES_BY_DOCID): score descending, then the id string ascending. */
export function anseriniOrder(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}
