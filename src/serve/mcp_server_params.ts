// The options of `createRetrieverMcpServer` / `startMcpHttpServer` (`two-stage mcp`) and their checks.
import { InvalidArgumentError } from "../errors.js";
import type { TwoStageRetriever } from "../two_stage_retriever.js";
import { describeValue, positiveInteger } from "../validation.js";

/** Options of {@link createRetrieverMcpServer}. */
export interface RetrieverMcpParams {
  /** The retriever the tools search. */
  retriever: TwoStageRetriever;
  /**
   * The server's name in MCP's `initialize` answer.
   * @default "two-stage-retriever"
   */
  name?: string;
  /**
   * The server's version in MCP's `initialize` answer.
   * @default this package's version
   */
  version?: string;
  /**
   * Largest `topK` the `search` tool accepts (and its default when the retriever's `topK` is larger).
   * @default 20
   */
  maxTopK?: number;
  /**
   * Characters of a document's text a `search` or `get` result carries at most (longer texts are cut, marked
   * `truncated`).
   * @default 2000
   */
  maxTextChars?: number;
  /**
   * Characters of a query at most; a longer one is refused by the tool's schema.
   * @default 2000
   */
  maxQueryChars?: number;
  /**
   * Stage-1 candidates the `explain` tool lists at most (in stage-1 order; the rest counted as `omittedCandidates`).
   * @default 100
   */
  maxCandidates?: number;
}

/** Throws an InvalidArgumentError naming the first option out of range. */
export function checkRetrieverMcpParams(params: RetrieverMcpParams): void {
  const retriever = params?.retriever as Partial<TwoStageRetriever> | undefined;
  if (typeof retriever?.invoke !== "function" || typeof retriever.explain !== "function") {
    throw new InvalidArgumentError(
      `retriever must be a TwoStageRetriever; got ${describeValue(params?.retriever)}. Pass { retriever }.`,
      { argument: "retriever" },
    );
  }
  for (const key of ["name", "version"] as const) {
    if (params[key] !== undefined && (typeof params[key] !== "string" || params[key] === "")) {
      throw new InvalidArgumentError(`${key} must be a non-empty string; got ${describeValue(params[key])}.`, {
        argument: key,
      });
    }
  }
  positiveInteger("maxTopK", params.maxTopK);
  positiveInteger("maxTextChars", params.maxTextChars);
  positiveInteger("maxQueryChars", params.maxQueryChars);
  positiveInteger("maxCandidates", params.maxCandidates);
}
