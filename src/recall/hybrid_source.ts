import { randomUUID } from "node:crypto";

import type { DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { describeValue, positiveInteger } from "../validation.js";
import { documentKey } from "../documents/document_key.js";
import { isRecallSource, type RecallCandidate, type RecallFilter, type RecallSource } from "./recall_source.js";

/** One source of a {@link HybridSource}, with its name in details, its depth and its weight. */
export interface HybridSourceEntry {
  source: RecallSource;
  /**
   * Prefix of this source's details (`<name>Rank`, `<name>Score`), e.g. "dense" or "bm25".
   * @default source.name
   */
  name?: string;
  /**
   * How many candidates to ask this source for.
   * @default the k asked of the hybrid source
   */
  depth?: number;
  /**
   * Weight of this source in the fused score (both fusions).
   * @default 1
   */
  weight?: number;
}

/** Options of {@link HybridSource}. */
export interface HybridSourceParams {
  /** Two or more sources: bare {@link RecallSource}s or {@link HybridSourceEntry} objects. */
  sources: Array<RecallSource | HybridSourceEntry>;
  /**
   * How ranked lists are fused. "rrf": Reciprocal Rank Fusion, `Σ weight / (rrfK + rank)` (rank from 1); needs no
   * score calibration. "minmax": each source's scores scaled to [0, 1] over the candidates it returned
   * (`(s − min) / (max − min)`, 1 when all are equal), then `Σ weight · scaled`; a source that did not return a
   * document adds 0.
   * @default "rrf"
   */
  fusion?: "rrf" | "minmax";
  /**
   * The RRF constant k (larger flattens the reward for top ranks).
   * @default 60
   */
  rrfK?: number;
}

interface ResolvedEntry {
  source: RecallSource;
  name: string;
  depth?: number;
  weight: number;
}

/** Whether a source refused the query because it has no embedding (a zero vector; see FaissVectorStore). */
function isNoQueryEmbedding(error: unknown): boolean {
  return InvalidArgumentError.isInstance(error) && error.argument === "queryEmbedding";
}

/** Throws unless a source's answer is an array of `{ document: { pageContent: string }, score: number }`. */
function checkCandidates(list: unknown, where: string): asserts list is RecallCandidate[] {
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      `${where}.recall() returned ${describeValue(list)}; expected an array of { document, score } candidates.`,
    );
  }
  list.forEach((candidate: unknown, i) => {
    const { document, score } = (candidate ?? {}) as Partial<RecallCandidate>;
    const problem =
      typeof candidate !== "object" || candidate === null
        ? `${describeValue(candidate)}`
        : typeof document?.pageContent !== "string"
          ? `a candidate whose document.pageContent is ${describeValue(document?.pageContent)}`
          : typeof score !== "number" || Number.isNaN(score)
            ? `a candidate whose score is ${typeof score === "number" ? score : describeValue(score)}`
            : undefined;
    if (problem) {
      throw new InvalidArgumentError(
        `${where}.recall() returned ${problem} at [${i}]; expected { document: { pageContent, metadata }, score: number }. ` +
          "Fix that source (each candidate needs a document and a numeric score).",
      );
    }
  });
}

/**
 * Stage 1 fused from several stage-1 sources (e.g. dense FAISS recall and {@link Bm25Index}): each source is asked
 * for its own depth with the same query and filter, the lists are fused (Reciprocal Rank Fusion by default, or
 * min-max normalised scores), and the best `k` come back with the fused score as `score`. Each candidate's
 * `details` holds every source's rank (from 1) and score as `<name>Rank` / `<name>Score` (undefined where the
 * source did not return it). Documents are matched across sources by {@link documentKey}; the document object
 * returned is the first source's (in `sources` order) that returned it. Ties go to the better best rank, then to
 * the document seen first (sources in order, each best first). A source that refuses the query because it embedded
 * to a zero vector (an `InvalidArgumentError` with `argument: "queryEmbedding"`, as `FaissVectorStore` throws)
 * is left out when another source answered: the others rank alone, and each candidate's `details.hybridFallback`
 * says so. Any other failure of a source fails the recall.
 *
 * @example
 * ```ts
 * const hybrid = new HybridSource({ sources: [{ source: faissSource, name: "dense" }, bm25] });
 * const [top] = await hybrid.recall("what causes tides", 10);
 * // top.score === 1/61 + 1/62 (first in one list, second in the other); top.details → { denseRank: 2, bm25Rank: 1, … }
 * ```
 */
export class HybridSource implements RecallSource {
  readonly name = "hybrid";

  readonly scoreKind: string;

  readonly fusion: "rrf" | "minmax" = "rrf";

  readonly rrfK: number = 60;

  readonly sources: ReadonlyArray<Readonly<ResolvedEntry>>;

  constructor(params: HybridSourceParams) {
    const entries = params?.sources;
    if (!Array.isArray(entries) || entries.length < 2) {
      throw new InvalidArgumentError(
        `HybridSource needs two or more sources; got ${Array.isArray(entries) ? entries.length : describeValue(entries)}. Pass e.g. [denseSource, bm25Index].`,
      );
    }
    this.fusion = params.fusion ?? this.fusion;
    if (this.fusion !== "rrf" && this.fusion !== "minmax") {
      throw new InvalidArgumentError(`Unsupported fusion ${describeValue(this.fusion)}. Expected one of: rrf, minmax.`);
    }
    this.rrfK = params.rrfK ?? this.rrfK;
    if (typeof this.rrfK !== "number" || !Number.isFinite(this.rrfK) || this.rrfK < 0) {
      throw new InvalidArgumentError(
        `rrfK must be a finite number >= 0; got ${typeof this.rrfK === "number" ? this.rrfK : describeValue(this.rrfK)}. 60 is usual.`,
      );
    }
    this.scoreKind = this.fusion;
    const names = new Set<string>();
    this.sources = entries.map((entry, i) => {
      const resolved: ResolvedEntry = isRecallSource(entry)
        ? { source: entry, name: entry.name, weight: 1 }
        : {
            source: (entry as HybridSourceEntry)?.source,
            name: (entry as HybridSourceEntry)?.name ?? (entry as HybridSourceEntry)?.source?.name,
            depth: (entry as HybridSourceEntry)?.depth,
            weight: (entry as HybridSourceEntry)?.weight ?? 1,
          };
      if (!isRecallSource(resolved.source)) {
        throw new InvalidArgumentError(
          `sources[${i}] is not a RecallSource (recall, name, scoreKind) nor { source: RecallSource }; got ${describeValue(entry)}.`,
        );
      }
      if (typeof resolved.name !== "string" || resolved.name === "" || names.has(resolved.name)) {
        throw new InvalidArgumentError(
          `sources[${i}] needs a unique non-empty name (details are keyed by it); got ${describeValue(resolved.name)}. Set { source, name: "dense" }.`,
        );
      }
      names.add(resolved.name);
      positiveInteger(`sources[${i}].depth`, resolved.depth);
      if (typeof resolved.weight !== "number" || !Number.isFinite(resolved.weight) || resolved.weight < 0) {
        throw new InvalidArgumentError(
          `sources[${i}].weight must be a finite number >= 0; got ${typeof resolved.weight === "number" ? resolved.weight : describeValue(resolved.weight)}.`,
        );
      }
      return Object.freeze(resolved);
    });
  }

  /**
   * The documents `ids` name, from the first source (in `sources` order) that holds each; sources that cannot look
   * documents up are passed over (their error is thrown when none can).
   */
  async getDocuments(ids: readonly string[]): Promise<(DocumentInterface | undefined)[]> {
    const found: (DocumentInterface | undefined)[] = ids.map(() => undefined);
    let lookedUp = false;
    let firstError: unknown;
    for (const { source } of this.sources) {
      if (!source.getDocuments || found.every((doc) => doc !== undefined)) continue;
      try {
        const docs = await source.getDocuments(ids);
        lookedUp = true;
        docs.forEach((doc, i) => (found[i] ??= doc));
      } catch (error) {
        firstError ??= error;
      }
    }
    if (!lookedUp) {
      throw firstError ?? new InvalidArgumentError("None of this hybrid's sources can look documents up by id.");
    }
    return found;
  }

  async recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]> {
    if (!Number.isInteger(k) || k <= 0) {
      throw new InvalidArgumentError(
        `k must be a positive integer; got ${typeof k === "number" ? k : describeValue(k)}.`,
      );
    }
    const answers = await Promise.allSettled(
      this.sources.map((entry) => entry.source.recall(query, entry.depth ?? k, filter)),
    );
    // A source that has no embedding of this query (zero vector) is left out when another answered, and said so.
    const leftOut = answers.flatMap((answer, s) =>
      answer.status === "rejected" && isNoQueryEmbedding(answer.reason) ? [s] : [],
    );
    const answered = answers.filter((answer) => answer.status === "fulfilled").length;
    const failed = answers.find(
      (answer, s): answer is PromiseRejectedResult =>
        answer.status === "rejected" && (!leftOut.includes(s) || answered === 0),
    );
    if (failed) throw failed.reason;
    const lists = answers.map((answer) => (answer.status === "fulfilled" ? answer.value : []));
    lists.forEach((list, s) => checkCandidates(list, `sources[${s}] (${this.sources[s].name})`));
    const fallback = leftOut.length
      ? `${leftOut.map((s) => this.sources[s].name).join(", ")} left out: the query has no embedding (it embedded ` +
        `to a zero vector); ranked by ${this.sources
          .filter((_, s) => !leftOut.includes(s))
          .map((entry) => entry.name)
          .join(", ")} alone`
      : undefined;
    type Fused = { candidate: RecallCandidate; score: number; bestRank: number; firstSource: number };
    const fused = new Map<string, Fused>();
    lists.forEach((list, s) => {
      const { name, weight } = this.sources[s];
      let min = Infinity;
      let max = -Infinity;
      for (const c of list) {
        if (c.score < min) min = c.score;
        if (c.score > max) max = c.score;
      }
      list.forEach((candidate, i) => {
        const rank = i + 1;
        const key = documentKey(candidate.document);
        let entry = fused.get(key);
        if (entry === undefined) {
          const details: Record<string, number | string | undefined> = {};
          for (const other of this.sources) {
            details[`${other.name}Rank`] = undefined;
            details[`${other.name}Score`] = undefined;
          }
          if (fallback) details.hybridFallback = fallback;
          entry = {
            candidate: { document: candidate.document, score: 0, details },
            score: 0,
            bestRank: rank,
            firstSource: s,
          };
          fused.set(key, entry);
        } else if (entry.candidate.details![`${name}Rank`] !== undefined) {
          return; // a source listing one document twice: its best rank counts
        }
        entry.candidate.details![`${name}Rank`] = rank;
        entry.candidate.details![`${name}Score`] = candidate.score;
        entry.bestRank = Math.min(entry.bestRank, rank);
        entry.score +=
          this.fusion === "rrf"
            ? weight / (this.rrfK + rank)
            : weight * (max > min ? (candidate.score - min) / (max - min) : 1);
      });
    });
    const ranked = [...fused.values()].sort(
      (a, b) => b.score - a.score || a.bestRank - b.bestRank || a.firstSource - b.firstSource,
    );
    return ranked.slice(0, k).map((entry) => ({ ...entry.candidate, score: entry.score }));
  }

  /**
   * Adds documents to every source, with the same ids (from `options.ids`, else each document's `id`, else random
   * UUIDs) so the sources agree on identity. Every source must support `addDocuments`. Not atomic across sources:
   * if a later source refuses the batch, earlier sources keep it.
   */
  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const missing = this.sources.filter((entry) => typeof entry.source.addDocuments !== "function");
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        `Cannot add documents: the source(s) ${missing.map((m) => m.name).join(", ")} have no addDocuments. Add to each source directly.`,
      );
    }
    if (options?.ids !== undefined && options.ids.length !== documents.length) {
      throw new InvalidArgumentError(`Got ${options.ids.length} ids for ${documents.length} documents.`);
    }
    const ids = documents.map((doc, i) => options?.ids?.[i] ?? doc.id ?? randomUUID());
    for (const entry of this.sources) await entry.source.addDocuments!(documents, { ids });
    return ids;
  }
}
