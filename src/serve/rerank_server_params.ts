// The options of `startRerankServer` (`two-stage serve`) and their checks.
import { InvalidArgumentError } from "../errors.js";
import type { TransformersEmbeddingsParams } from "../models/transformers_embeddings.js";
import type { CrossEncoderCompressorParams } from "../rerank/cross_encoder_params.js";
import { API_KEY_ENV } from "../rerank/remote/remote_reranker_params.js";
import { describeValue, durationMs, nonNegativeInteger, positiveInteger } from "../validation.js";

/** Options of {@link startRerankServer}. */
export interface RerankServerParams {
  /**
   * The reranker served (model, quantized, maxLength, offline, …). It runs with `activation: "none"` (raw logits)
   * whatever is given: `/rerank` answers the sigmoid of them unless `raw_scores`, as TEI does; Cohere's routes answer
   * the sigmoid.
   * @default {} (the default reranker, Xenova/ms-marco-MiniLM-L-6-v2, in the inference worker)
   */
  reranker?: Omit<CrossEncoderCompressorParams, "activation" | "tokenizer" | "sequenceModel" | "scoreCache">;
  /**
   * The embedding model `POST /embed` serves; without it `/embed` answers 424, as TEI does for a reranker.
   * @default undefined (no /embed)
   */
  embeddings?: TransformersEmbeddingsParams;
  /**
   * The interface to listen on. Another machine can reach the server only when this is a public interface (e.g.
   * "0.0.0.0"): then set an API key.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * The port; 0 picks a free one (see `RerankServer.url`).
   * @default 8080
   */
  port?: number;
  /**
   * Requests must carry `Authorization: Bearer <apiKey>` (every route but `/health`); others get 401 before any
   * model time. Compared in constant time, never logged.
   * @default process.env.TWO_STAGE_API_KEY, else none (no authentication)
   */
  apiKey?: string;
  /**
   * Requests waiting for the model at most; past it a request is answered 429 with `Retry-After` at once, so memory
   * stays bounded under overload.
   * @default 64
   */
  maxQueue?: number;
  /**
   * Model jobs run at once (each a merge of waiting requests that can share a model call). Above 1, one job's
   * tokenization overlaps another's inference.
   * @default 2
   */
  maxConcurrent?: number;
  /**
   * Texts one request may carry (TEI's `max_client_batch_size`, reported by `/info`); more is answered 413.
   * @default 1000
   */
  maxTexts?: number;
  /**
   * Largest request body in bytes; a larger one is answered 413 before it is parsed.
   * @default 8388608 (8 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Milliseconds from a request's arrival to its answer: past it, a waiting or running request is answered 503 with
   * `Retry-After` and its model work stops (between batches).
   * @default 30000
   */
  requestTimeoutMs?: number;
}

/** Throws an InvalidArgumentError naming the first option out of range. */
export function checkRerankServerParams(params: RerankServerParams): void {
  if (params.host !== undefined && (typeof params.host !== "string" || params.host.trim() === "")) {
    throw new InvalidArgumentError(
      `host must be an interface address, e.g. "127.0.0.1" or "0.0.0.0"; got ${describeValue(params.host)}.`,
      { argument: "host" },
    );
  }
  if (
    params.port !== undefined &&
    (typeof params.port !== "number" || !Number.isInteger(params.port) || params.port < 0 || params.port > 65535)
  ) {
    throw new InvalidArgumentError(
      `port must be an integer from 0 (any free port) to 65535; got ${describeValue(params.port)}.`,
      { argument: "port" },
    );
  }
  if (params.apiKey !== undefined && (typeof params.apiKey !== "string" || params.apiKey.length < 8)) {
    throw new InvalidArgumentError(
      `apiKey must be a string of at least 8 characters; got ${typeof params.apiKey === "string" ? `${params.apiKey.length} characters` : typeof params.apiKey}. ` +
        `Pass a long random key (e.g. openssl rand -hex 24), or set ${API_KEY_ENV}.`,
      { argument: "apiKey" },
    );
  }
  nonNegativeInteger("maxQueue", params.maxQueue, "0: only what runs");
  positiveInteger("maxConcurrent", params.maxConcurrent);
  positiveInteger("maxTexts", params.maxTexts);
  positiveInteger("maxBodyBytes", params.maxBodyBytes);
  durationMs("requestTimeoutMs", params.requestTimeoutMs);
}
