// The options of RemoteReranker and their checks, apart from its behaviour (remote_reranker.ts).
import { InvalidArgumentError } from "../../errors.js";
import { describeValue, durationMs, nonNegativeInteger, positiveInteger } from "../../validation.js";

/** The wire formats a {@link RemoteReranker} speaks. */
export type RemoteRerankApi = "tei" | "cohere-v1" | "cohere-v2";

/** Every {@link RemoteRerankApi}, for messages and CLI checks. */
export const REMOTE_RERANK_APIS: readonly RemoteRerankApi[] = ["tei", "cohere-v1", "cohere-v2"];

/** The environment variable a {@link RemoteReranker}'s `apiKey` is read from (and `two-stage serve`'s key). */
export const API_KEY_ENV = "TWO_STAGE_API_KEY";

/** The environment variable read for Cohere's APIs when {@link API_KEY_ENV} is unset (LangChain's name for it). */
export const COHERE_API_KEY_ENV = "COHERE_API_KEY";

/** Options of {@link RemoteReranker}. */
export interface RemoteRerankerParams {
  /**
   * The server's base URL, e.g. `http://10.0.0.5:8080` (a TEI or `two-stage serve`) or `https://api.cohere.com`;
   * the API's path is added (`/rerank`, `/v1/rerank`, `/v2/rerank`). http or https, without credentials (pass the
   * key as {@link apiKey}).
   */
  url: string;
  /**
   * The wire format: `tei` (Text Embeddings Inference's `POST /rerank`, also `two-stage serve`), `cohere-v1`
   * (`POST /v1/rerank`) or `cohere-v2` (`POST /v2/rerank`; Jina, Voyage and Mixedbread speak close variants).
   * @default "tei"
   */
  api?: RemoteRerankApi;
  /**
   * The model: sent as `model` to Cohere's APIs (`cohere-v2` requires it), and this reranker's name in metadata,
   * `explain` and a cascade. TEI serves one model and ignores it.
   * @default the url (with `tei` and `cohere-v1`); required with `cohere-v2`
   */
  model?: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`. Never logged, never in an error message or in `savedParams()`.
   * @default process.env.TWO_STAGE_API_KEY; with the Cohere APIs, else process.env.COHERE_API_KEY; else none
   */
  apiKey?: string;
  /**
   * Most texts per request: more candidates go in several requests (at most `maxConcurrentRequests` at once).
   * @default with `tei`, what the server's `GET /info` allows (read once): its `max_client_batch_size`, and no more
   * than one model batch of full-length inputs (`max_batch_tokens` / `max_input_length`) when it reports both; 1000
   * with Cohere's APIs (Cohere's advice for one request)
   */
  maxBatchSize?: number;
  /**
   * Requests of one scoring call in flight at once, so a server that batches concurrent requests (TEI, `two-stage
   * serve`) works on all of them together; 1 sends them one after the other.
   * @default 4
   */
  maxConcurrentRequests?: number;
  /**
   * Milliseconds one HTTP request (one attempt) may take before it is aborted; a timed-out request is not retried
   * (the server may still be working on it). Whole milliseconds from 1 to 2³¹ − 1.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries of a request answered 429 or 5xx (not 501) or that could not connect, after an exponential backoff
   * (250 ms, 500 ms, 1 s, … with jitter) or the server's `Retry-After` when it sends one (a `Retry-After` above 30 s
   * fails at once). 0 turns retries off.
   * @default 2
   */
  maxRetries?: number;
  /**
   * With `tei`: the activation applied to the raw logits the server returns (`raw_scores: true` is always asked
   * for): `sigmoid`, as TEI's own default and the local model's for 1-logit heads (a 2-label head served by
   * `two-stage serve` gives `l1 - l0`, whose sigmoid is its softmax), or `none` for the raw logits. Cohere's APIs
   * return scores in [0, 1] already and take no activation.
   * @default "sigmoid" (with `tei`)
   */
  activation?: "sigmoid" | "none";
  /**
   * Characters of a text sent at most: a longer one is cut (and TEI is asked to `truncate` to the model's length),
   * so a huge document costs no more upload than this. Cross-encoders read about 512 tokens (some 2–3k characters).
   * @default 20000
   */
  maxTextChars?: number;
  /**
   * How many documents `compressDocuments` returns.
   * @default 3
   */
  topN?: number;
  /**
   * Return identical documents once: the same document (`documentKey`) or the same `pageContent`.
   * @default true
   */
  dedupe?: boolean;
  /**
   * Drop documents scoring below this (a probability in [0, 1] unless activation is `none`).
   * @default undefined (keep all)
   */
  scoreThreshold?: number;
  /**
   * The fetch implementation (e.g. one with a proxy agent, or a stub in tests).
   * @default globalThis.fetch (Node's built-in, undici)
   */
  fetch?: typeof globalThis.fetch;
}

/** What `savedParams()` records of a {@link RemoteReranker}: its options without the key and the fetch. */
export type SavedRemoteRerankerParams = Omit<RemoteRerankerParams, "apiKey" | "fetch">;

/** Throws an InvalidArgumentError naming the first option out of range, of the wrong type, or not for this API. */
export function checkRemoteRerankerParams(params: RemoteRerankerParams): URL {
  if (typeof params?.url !== "string" || params.url.trim() === "") {
    throw new InvalidArgumentError(
      `url must be the server's base URL, e.g. "http://127.0.0.1:8080"; got ${describeValue(params?.url)}.`,
      { argument: "url" },
    );
  }
  let url: URL;
  try {
    url = new URL(params.url);
  } catch (error) {
    throw new InvalidArgumentError(
      `url ${describeValue(params.url)} is not a URL. Pass the server's base URL, e.g. "http://127.0.0.1:8080".`,
      { argument: "url", cause: error },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError(`url must be http or https; got ${url.protocol.replace(/:$/, "")}.`, {
      argument: "url",
    });
  }
  if (url.username !== "" || url.password !== "") {
    throw new InvalidArgumentError(
      "url carries credentials (user:password@); they would end up in logs and error messages. Pass the key as " +
        `apiKey (or the ${API_KEY_ENV} environment variable) and the URL without them.`,
      { argument: "url" },
    );
  }
  const api = params.api ?? "tei";
  if (!REMOTE_RERANK_APIS.includes(api)) {
    throw new InvalidArgumentError(
      `Unknown api ${describeValue(api)}. Expected one of: ${REMOTE_RERANK_APIS.join(", ")}.`,
      { argument: "api" },
    );
  }
  if (params.model !== undefined && (typeof params.model !== "string" || params.model.trim() === "")) {
    throw new InvalidArgumentError(`model must be a non-empty string; got ${describeValue(params.model)}.`, {
      argument: "model",
    });
  }
  if (api === "cohere-v2" && params.model === undefined) {
    throw new InvalidArgumentError(
      "model is required with api 'cohere-v2': its /v2/rerank takes one, e.g. model: \"rerank-v3.5\" (a " +
        "`two-stage serve` accepts any name).",
      { argument: "model" },
    );
  }
  if (params.apiKey !== undefined && (typeof params.apiKey !== "string" || params.apiKey === "")) {
    // The value itself is never shown: it may be a real key of the wrong type.
    throw new InvalidArgumentError(`apiKey must be a non-empty string; got ${typeof params.apiKey}.`, {
      argument: "apiKey",
    });
  }
  positiveInteger("maxBatchSize", params.maxBatchSize);
  positiveInteger("maxConcurrentRequests", params.maxConcurrentRequests);
  durationMs("timeoutMs", params.timeoutMs);
  nonNegativeInteger("maxRetries", params.maxRetries, "0: no retries");
  positiveInteger("maxTextChars", params.maxTextChars);
  positiveInteger("topN", params.topN);
  if (params.activation !== undefined) {
    if (api !== "tei") {
      throw new InvalidArgumentError(
        `activation applies to api 'tei' (raw logits); ${api} returns scores in [0, 1] already. Omit activation.`,
        { argument: "activation" },
      );
    }
    if (params.activation !== "sigmoid" && params.activation !== "none") {
      throw new InvalidArgumentError(
        `Unknown activation ${describeValue(params.activation)}. Expected one of: sigmoid, none.`,
        { argument: "activation" },
      );
    }
  }
  if (params.dedupe !== undefined && typeof params.dedupe !== "boolean") {
    throw new InvalidArgumentError(`dedupe must be true or false; got ${describeValue(params.dedupe)}.`, {
      argument: "dedupe",
    });
  }
  if (params.scoreThreshold !== undefined) {
    const probability = !(api === "tei" && params.activation === "none");
    if (
      typeof params.scoreThreshold !== "number" ||
      !Number.isFinite(params.scoreThreshold) ||
      (probability && (params.scoreThreshold < 0 || params.scoreThreshold > 1))
    ) {
      throw new InvalidArgumentError(
        `scoreThreshold must be ${probability ? "a probability in [0, 1]" : "a finite number"}; got ` +
          `${describeValue(params.scoreThreshold)}. Omit it to keep every document.`,
        { argument: "scoreThreshold" },
      );
    }
  }
  if (params.fetch !== undefined && typeof params.fetch !== "function") {
    throw new InvalidArgumentError(
      `fetch must be a function like globalThis.fetch; got ${describeValue(params.fetch)}.`,
      {
        argument: "fetch",
      },
    );
  }
  return url;
}
