import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import type { ScoreCache } from "./score_cache.js";

const HEADER = "# two-stage-retriever score cache v1: <sha256 of the key, 32 hex>\\t<score>";
/** New entries are appended to the file once this many are pending (and on `flush`). */
const FLUSH_EVERY = 256;

/**
 * A score cache kept in a file between runs: what a reranker scored once is read back, not recomputed (an evaluation
 * that sweeps recallK, compares stage-1 kinds or tries a cascade pays each (model, query, document) pair once). Keys
 * name the model file (path, size, modification time) and the reranker settings that change a score, so a re-imported
 * model or another `maxLength` misses instead of reading stale scores. The file only grows: one line per scored pair
 * (about 100 bytes); delete it to start over.
 *
 * @example
 * ```ts
 * const scores = await ScoreCacheFile.open("scifact.scores.tsv");
 * const reranker = new CrossEncoderCompressor({ scoreCache: scores });
 * // ... rerank ...
 * scores.flush();
 * ```
 */
export class ScoreCacheFile implements ScoreCache {
  private readonly entries = new Map<string, number>();
  private pending: string[] = [];
  /** Entries read from the file when it was opened. */
  readonly loaded: number;
  /** Lookups answered from the cache since it was opened. */
  hits = 0;

  private constructor(
    readonly file: string,
    text: string,
  ) {
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const tab = line.lastIndexOf("\t");
      const score = tab > 0 ? Number(line.slice(tab + 1)) : NaN;
      // A line cut short by a killed run has no score (or half of one): skipped, scored again when needed.
      if (tab > 0 && line.slice(tab + 1).trim() !== "" && Number.isFinite(score)) {
        this.entries.set(line.slice(0, tab), score);
      }
    }
    this.loaded = this.entries.size;
  }

  /** Opens (or creates) the cache file; its folder must exist. */
  static async open(file: string): Promise<ScoreCacheFile> {
    const resolved = path.resolve(file);
    let text = "";
    try {
      text = await fs.promises.readFile(resolved, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new InvalidArgumentError(
          `Cannot read the score cache ${resolved}: ${(error as Error).message}. Pass a readable file, or a new path.`,
          { cause: error },
        );
      }
      if (!fs.existsSync(path.dirname(resolved))) {
        throw new InvalidArgumentError(
          `The score cache's folder ${path.dirname(resolved)} does not exist. Create it, or pass a path in an existing folder.`,
        );
      }
    }
    if (text !== "" && !text.startsWith(HEADER.split(":")[0])) {
      throw new InvalidArgumentError(
        `${resolved} is not a two-stage score cache (it does not start with '${HEADER.split(":")[0]}'). ` +
          "Pass a new path or a file written by --score-cache; this file is left as it is.",
      );
    }
    const cache = new ScoreCacheFile(resolved, text);
    if (text === "") fs.writeFileSync(resolved, `${HEADER}\n`);
    else if (!text.endsWith("\n")) fs.appendFileSync(resolved, "\n");
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): number | undefined {
    const score = this.entries.get(hashKey(key));
    if (score !== undefined) this.hits += 1;
    return score;
  }

  set(key: string, score: number): void {
    const hashed = hashKey(key);
    if (this.entries.get(hashed) === score) return;
    this.entries.set(hashed, score);
    // String(number) round-trips a double exactly.
    this.pending.push(`${hashed}\t${String(score)}`);
    if (this.pending.length >= FLUSH_EVERY) this.flush();
  }

  /** Appends the entries not yet written. */
  flush(): void {
    if (this.pending.length === 0) return;
    fs.appendFileSync(this.file, `${this.pending.join("\n")}\n`);
    this.pending = [];
  }
}

/** Keys hold model paths and settings of any length and characters; the file stores a fixed-size hash of each. */
function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}
