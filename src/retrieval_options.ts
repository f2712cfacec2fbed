// The options of one retrieval — what the constructor sets and a call may change through
// `RunnableConfig.configurable` — and their one check, applied at both edges so a bad value fails the same way.
import { InvalidArgumentError } from "./errors.js";
import type { RecallFilter } from "./recall/recall_source.js";
import { describeValue, durationMs, positiveInteger } from "./validation.js";

/** The options one retrieval runs with. */
export interface RetrievalOptions {
  recallK: number;
  topK: number;
  filter?: RecallFilter;
  rerankTimeoutMs?: number;
  onRerankError: "throw" | "fallback";
}

/**
 * What one call may change, under `configurable` of LangChain's `RunnableConfig`: `invoke(query, { configurable:
 * { topK: 3 } })`, `retriever.withConfig({ configurable: { filter } })`, `batch(queries, [config, …])`, or an agent
 * tool's config. Each field means what the constructor option of the same name means and is checked by the same
 * function with the same messages; a field left out (or `undefined`) keeps the retriever's own value. Other keys of
 * `configurable` (a graph's `thread_id`, another component's options) are not read.
 */
export interface TwoStageConfigurable {
  /** Candidates fetched from stage 1 for this call. */
  recallK?: number;
  /** Documents returned by this call (at most `recallK`). */
  topK?: number;
  /** Metadata filter of this call; replaces the retriever's own filter (it is not combined with it). */
  filter?: RecallFilter;
  /** Rerank timeout of this call, in milliseconds. */
  rerankTimeoutMs?: number;
  /** What a failing rerank does in this call. */
  onRerankError?: "throw" | "fallback";
}

/** The `configurable` keys a call may set. */
export const CONFIGURABLE_KEYS = ["recallK", "topK", "filter", "rerankTimeoutMs", "onRerankError"] as const;

/**
 * Throws an {@link InvalidArgumentError} naming the bad option unless `options` can run a retrieval: `recallK` and
 * `topK` positive integers with `topK ≤ recallK`, `filter` a predicate or a plain object of metadata fields,
 * `rerankTimeoutMs` whole milliseconds (see `durationMs`), `onRerankError` `throw` or `fallback`. The constructor and
 * every call with `configurable` options run it.
 */
export function checkRetrievalOptions(options: RetrievalOptions): void {
  positiveInteger("recallK", options.recallK);
  positiveInteger("topK", options.topK);
  if (options.topK > options.recallK) {
    throw new InvalidArgumentError(
      `topK (${options.topK}) must not exceed recallK (${options.recallK}): stage 2 can only return candidates stage 1 found.`,
      { argument: "topK" },
    );
  }
  const { filter } = options;
  if (
    filter !== undefined &&
    typeof filter !== "function" &&
    (typeof filter !== "object" || filter === null || Array.isArray(filter))
  ) {
    throw new InvalidArgumentError(
      `filter must be a function of the document or an object of metadata fields that must match; got ` +
        `${describeValue(filter)}. Pass e.g. { source: "faq" } or (doc) => doc.metadata.year > 2020.`,
      { argument: "filter" },
    );
  }
  durationMs("rerankTimeoutMs", options.rerankTimeoutMs, "omit rerankTimeoutMs");
  if (options.onRerankError !== "throw" && options.onRerankError !== "fallback") {
    throw new InvalidArgumentError(
      `Unknown onRerankError '${String(options.onRerankError)}'. Expected one of: throw, fallback.`,
      { argument: "onRerankError" },
    );
  }
}

/**
 * The options of one call: `defaults` (the retriever's, already checked) with the fields `configurable` sets, checked
 * by {@link checkRetrievalOptions}. `defaults` itself when the call sets none.
 */
export function callRetrievalOptions(defaults: RetrievalOptions, configurable: unknown): RetrievalOptions {
  if (typeof configurable !== "object" || configurable === null) return defaults;
  const given = configurable as Record<string, unknown>;
  const set = CONFIGURABLE_KEYS.filter((key) => given[key] !== undefined);
  if (set.length === 0) return defaults;
  const options = { ...defaults, ...Object.fromEntries(set.map((key) => [key, given[key]])) } as RetrievalOptions;
  checkRetrievalOptions(options);
  return options;
}
