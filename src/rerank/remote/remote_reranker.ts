import { RemoteServiceError } from "../../errors.js";
import type { ScoreOptions, ScoringCost } from "../relevance_scorer.js";
import { ScoringCompressor } from "../scoring_compressor.js";
import { cohereV1Rerank, cohereV2Rerank } from "./cohere_api.js";
import { requestJson, shownUrl } from "./json_request.js";
import {
  API_KEY_ENV,
  COHERE_API_KEY_ENV,
  type RemoteRerankApi,
  type RemoteRerankerParams,
  type SavedRemoteRerankerParams,
  checkRemoteRerankerParams,
} from "./remote_reranker_params.js";
import type { RerankWire } from "./rerank_wire.js";
import { TEI_RERANK, readTeiInfo, teiRequestSize } from "./tei_api.js";

export type { RemoteRerankApi, RemoteRerankerParams, SavedRemoteRerankerParams } from "./remote_reranker_params.js";

/** Texts per request before a TEI server's `/info` has been read (and after it could not be). */
const TEI_FALLBACK_BATCH = 32;
/** Texts per request with Cohere's APIs (Cohere's advice for one request). */
const COHERE_BATCH = 1000;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Stage 2 on another machine: a cross-encoder served over HTTP — Hugging Face Text Embeddings Inference
 * (`/rerank`), `two-stage serve`, or a Cohere-compatible rerank API (`/v1/rerank`, `/v2/rerank`) — as a LangChain
 * document compressor. It is what {@link CrossEncoderCompressor} is (the same `compressDocuments`, `rerank`,
 * `score`, ranking rule and metadata), so it works as `TwoStageRetriever`'s stage 2, as a {@link CascadeCompressor}
 * stage (e.g. after a local TinyBERT), under `rerankBudgetMs` (its cost is learnt from its measured request
 * latency), `rerankTimeoutMs` (which aborts its request) and in `evaluate`. Candidates go in requests of at most
 * `maxBatchSize` texts; failed requests are retried with backoff; the API key is sent, never shown.
 *
 * With `tei` it asks for raw logits and applies the activation itself, so a TEI server or `two-stage serve` scores
 * exactly as the same model run locally (`sigmoid`, TEI's own default; `none` for the logits). Cohere's APIs return
 * their scores in [0, 1] as they are.
 *
 * @example
 * ```ts
 * // two-stage serve --reranker-model Xenova/ms-marco-MiniLM-L-6-v2 --port 8080   (or a TEI server)
 * const reranker = new RemoteReranker({ url: "http://127.0.0.1:8080", topN: 2 });
 * const docs = await reranker.compressDocuments(candidates, "what causes tides?");
 * docs.map((d) => d.metadata.relevanceScore.toFixed(3)); // ["0.981", "0.402"]
 * ```
 */
export class RemoteReranker extends ScoringCompressor {
  readonly url: string;
  readonly api: RemoteRerankApi = "tei";
  readonly model: string;
  readonly timeoutMs: number = 30_000;
  readonly maxRetries: number = 2;
  readonly maxConcurrentRequests: number = 4;
  readonly maxTextChars: number = 20_000;
  readonly topN: number = 3;
  readonly dedupe: boolean = true;
  readonly scoreThreshold?: number;
  /** The activation applied to TEI's raw logits; undefined with Cohere's APIs (scores as returned). */
  readonly activation?: "sigmoid" | "none";
  /** `maxBatchSize` as given; undefined when it is read from the server. */
  readonly maxBatchSize?: number;

  /** What the most recent scoring call sent: pairs (a remote model is priced per pair). */
  lastCost?: ScoringCost;

  protected readonly runName = "RemoteReranker";

  readonly #apiKey?: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #base: URL;
  readonly #wire: RerankWire;
  #serverBatch?: Promise<number>;
  #knownBatch?: number;

  constructor(params: RemoteRerankerParams) {
    super();
    const base = checkRemoteRerankerParams(params);
    this.#base = new URL(base.href.endsWith("/") ? base.href : `${base.href}/`);
    this.url = shownUrl(base);
    this.api = params.api ?? this.api;
    this.model = params.model ?? this.url;
    this.timeoutMs = params.timeoutMs ?? this.timeoutMs;
    this.maxRetries = params.maxRetries ?? this.maxRetries;
    this.maxConcurrentRequests = params.maxConcurrentRequests ?? this.maxConcurrentRequests;
    this.maxTextChars = params.maxTextChars ?? this.maxTextChars;
    this.topN = params.topN ?? this.topN;
    this.dedupe = params.dedupe ?? this.dedupe;
    this.scoreThreshold = params.scoreThreshold;
    this.maxBatchSize = params.maxBatchSize;
    this.activation = this.api === "tei" ? (params.activation ?? "sigmoid") : undefined;
    const cohere = this.api !== "tei";
    this.#apiKey =
      params.apiKey ?? process.env[API_KEY_ENV] ?? (cohere ? process.env[COHERE_API_KEY_ENV] : undefined) ?? undefined;
    if (this.#apiKey === "") this.#apiKey = undefined;
    this.#fetch = params.fetch ?? globalThis.fetch;
    this.#wire =
      this.api === "tei"
        ? TEI_RERANK
        : this.api === "cohere-v1"
          ? cohereV1Rerank(params.model)
          : cohereV2Rerank(params.model!);
    if (cohere) this.#knownBatch = COHERE_BATCH;
  }

  /**
   * Texts per request: `maxBatchSize`, else what the server's /info allows (once read; see `maxBatchSize`), else 32
   * until then (1000 for Cohere's APIs). A latency budget sizes its batches by it.
   */
  get batchSize(): number {
    return this.maxBatchSize ?? this.#knownBatch ?? TEI_FALLBACK_BATCH;
  }

  /** Pairs: a remote model's cost is learnt per pair from its measured request latency. */
  async costUnits(_query: string, texts: readonly string[]): Promise<number> {
    return texts.length;
  }

  /** The options that rebuild this reranker (`TwoStageRetriever.save`); the API key and `fetch` are left out. */
  savedParams(): SavedRemoteRerankerParams {
    const params: SavedRemoteRerankerParams = {
      url: this.url,
      api: this.api,
      model: this.model,
      maxBatchSize: this.maxBatchSize,
      maxConcurrentRequests: this.maxConcurrentRequests,
      timeoutMs: this.timeoutMs,
      maxRetries: this.maxRetries,
      activation: this.activation,
      maxTextChars: this.maxTextChars,
      topN: this.topN,
      dedupe: this.dedupe,
      scoreThreshold: this.scoreThreshold,
    };
    return Object.fromEntries(
      Object.entries(params).filter(([, value]) => value !== undefined),
    ) as SavedRemoteRerankerParams;
  }

  /** Nothing is held between calls (connections belong to the fetch's pool): forgets what the server's /info said. */
  async dispose(): Promise<void> {
    this.#serverBatch = undefined;
    if (this.api === "tei") this.#knownBatch = undefined;
  }

  /** Texts per request from TEI's `GET /info`, read once (a failed read is tried again on the next call). */
  private serverBatch(signal: AbortSignal | undefined): Promise<number> {
    if (this.maxBatchSize !== undefined) return Promise.resolve(this.maxBatchSize);
    if (this.api !== "tei") return Promise.resolve(COHERE_BATCH);
    if (!this.#serverBatch) {
      const url = new URL("info", this.#base);
      this.#serverBatch = requestJson({ ...this.requestBase(signal), url, method: "GET" }).then((answer) => {
        const info = readTeiInfo(answer);
        if (typeof info === "string") {
          throw new RemoteServiceError(
            `GET ${shownUrl(url)} is not a TEI /info answer: ${info}. Pass maxBatchSize to skip it, or check url.`,
          );
        }
        this.#knownBatch = teiRequestSize(info);
        return this.#knownBatch;
      });
      this.#serverBatch.catch(() => {
        this.#serverBatch = undefined;
      });
    }
    return this.#serverBatch;
  }

  private requestBase(signal: AbortSignal | undefined) {
    return {
      apiKey: this.#apiKey,
      timeoutMs: this.timeoutMs,
      maxRetries: this.maxRetries,
      signal,
      fetch: this.#fetch,
    };
  }

  protected async scoreTexts(query: string, texts: readonly string[], options: ScoreOptions = {}): Promise<number[]> {
    const { signal } = options;
    signal?.throwIfAborted();
    const distinct = [...new Set(texts)];
    const batch = await this.serverBatch(signal);
    const url = new URL(this.#wire.path, this.#base);
    const byText = new Map<string, number>();
    const chunks: string[][] = [];
    for (let start = 0; start < distinct.length; start += batch) chunks.push(distinct.slice(start, start + batch));
    // Up to maxConcurrentRequests requests in flight; the first failure stops the others.
    const stop = new AbortController();
    const linked = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        const sent = chunk.map((text) => (text.length > this.maxTextChars ? text.slice(0, this.maxTextChars) : text));
        const answer = await requestJson({
          ...this.requestBase(linked),
          url,
          method: "POST",
          body: this.#wire.body(query, sent),
        });
        const scores = this.#wire.scores(answer, chunk.length);
        if (typeof scores === "string") {
          throw new RemoteServiceError(
            `POST ${shownUrl(url)} answered in a shape that is not ${this.api}'s: ${scores}. Check that api names ` +
              "the server's API (tei, cohere-v1, cohere-v2).",
          );
        }
        chunk.forEach((text, i) => byText.set(text, this.activation === "sigmoid" ? sigmoid(scores[i]) : scores[i]));
      }
    };
    let failure: { error: unknown } | undefined;
    await Promise.all(
      Array.from({ length: Math.min(this.maxConcurrentRequests, chunks.length) }, () =>
        worker().catch((error: unknown) => {
          failure ??= { error }; // the first failure, not the aborts it caused
          stop.abort(error);
        }),
      ),
    );
    if (failure) throw signal?.aborted ? signal.reason : failure.error;
    this.lastCost = { units: distinct.length, pairs: distinct.length };
    return texts.map((text) => byText.get(text)!);
  }
}
