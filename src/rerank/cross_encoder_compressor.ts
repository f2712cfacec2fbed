import { createHash } from "node:crypto";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { checkModelName } from "../validation.js";
import type { ModelSourceParams } from "../models/model_source.js";
import { type RerankerProfile, knownRerankerProfile } from "../models/reranker_profiles.js";
import {
  type CrossEncoderActivation,
  type CrossEncoderSequenceModel,
  type CrossEncoderTokenizer,
  type LoadedCrossEncoder,
  activate,
  fromParts,
  loadCrossEncoder,
  resolveActivation,
} from "../models/cross_encoder_model.js";
import { DEFAULT_RERANKER_MODEL } from "../defaults.js";
import { LruCache } from "./lru_cache.js";
import type { ScoreCache } from "./score_cache.js";
import { type CrossEncoderCompressorParams, checkCrossEncoderSettings, checkPairRoom } from "./cross_encoder_params.js";
import { documentTokens, tokenizerFingerprint } from "./token_cache.js";
import type { ScoreOptions, ScoringCost } from "./relevance_scorer.js";
import { ScoringCompressor } from "./scoring_compressor.js";

export { headTokens } from "./token_cache.js";
import { modelInputs } from "./model_inputs.js";
import { transformersRuntime } from "../models/transformers_runtime.js";
import {
  type EncodedPair,
  type PaddedBatch,
  documentBudget,
  encodePair,
  lengthBucketedBatches,
  padBatch,
  passageWindows,
} from "./pair_batcher.js";

export type { KnownCrossEncoderId } from "../models/reranker_profiles.js";
export type { CrossEncoderCompressorParams } from "./cross_encoder_params.js";
export type { RerankResult } from "./scoring_compressor.js";

/** What the last scoring call did, for diagnostics and benchmarks. */
export interface RerankStats {
  texts: number;
  pairs: number;
  batches: number;
  /** Padded tokens sent to the model (rows × columns over the batches). */
  tokens: number;
  cacheHits: number;
  /** Time spent tokenizing and batching (on the event loop). */
  prepareMs: number;
  /** Longest stretch the event loop was blocked while preparing (work is split into ~3 ms slices). */
  maxBlockMs: number;
  /**
   * Time spent awaiting the model: in the inference worker, including the hand-over and any batches of other
   * rerankers (sharing the worker) that ran first.
   */
  modelMs: number;
  totalMs: number;
}

function noClassificationHead(model: string, evidence: string): ModelLoadError {
  return new ModelLoadError(
    `Model '${model}' has no classification head (${evidence}): it looks like an embedding (bi-encoder) model, which ` +
      "encodes one text at a time, not a cross-encoder that scores a (query, document) pair. Pass a cross-encoder as " +
      `the reranker, e.g. ${DEFAULT_RERANKER_MODEL}, and use this model as embeddings (TransformersEmbeddings).`,
  );
}

/** Throws when the model's config names only architectures without a sequence-classification head. */
function checkClassificationHead(model: CrossEncoderSequenceModel, name: string): void {
  const architectures = (model.config as { architectures?: unknown } | undefined)?.architectures;
  if (!Array.isArray(architectures) || architectures.length === 0) return;
  if (architectures.some((a) => typeof a === "string" && a.endsWith("ForSequenceClassification"))) return;
  throw noClassificationHead(name, `its config.json names ${architectures.join(", ")}`);
}

/** Tokenization yields to the event loop once a slice has run this long (one document past it at most). */
const SLICE_MS = 3;

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("base64");
}

/**
 * Stage 2 of two-stage retrieval: a local cross-encoder reranker for LangChain.js. It reads the query and each
 * document together (full attention) through transformers.js and ONNX Runtime, and returns new Documents sorted by
 * relevance with `metadata.relevanceScore` and `metadata.rerankRank`. Works wherever LangChain takes a document
 * compressor, e.g. `ContextualCompressionRetriever`.
 *
 * @example
 * ```ts
 * const reranker = new CrossEncoderCompressor({ topN: 2 });
 * const docs = await reranker.compressDocuments(candidates, "what causes tides?");
 * docs.map((d) => [d.metadata.rerankRank, d.metadata.relevanceScore.toFixed(3)]);
 * // [[1, "0.981"], [2, "0.402"]]
 * ```
 */
export class CrossEncoderCompressor extends ScoringCompressor {
  readonly model: string = DEFAULT_RERANKER_MODEL;
  readonly quantized: boolean = true;
  readonly topN: number = 3;
  readonly batchSize: number;
  readonly maxBatchTokens: number = 16384;
  readonly longDocuments: "truncate" | "maxPassage" = "truncate";
  readonly maxPassages: number = 8;
  readonly dedupe: boolean = true;
  readonly cacheSize: number = 0;
  readonly inferenceWorker: boolean = true;
  readonly inferenceNice: number = 0;
  readonly activation?: CrossEncoderActivation;
  readonly maxLength?: number;
  readonly maxQueryLength?: number;
  readonly passageOverlap?: number;
  readonly scoreThreshold?: number;
  /** The built-in profile of a known model id (activation and maximum length), else undefined. */
  readonly profile?: RerankerProfile;

  /** Statistics of the most recent scoring call. */
  lastStats?: RerankStats;

  /** The most recent scoring call's cost in padded tokens (from {@link lastStats}). */
  get lastCost(): ScoringCost | undefined {
    return this.lastStats && { units: this.lastStats.tokens, pairs: this.lastStats.pairs };
  }

  protected readonly runName = "CrossEncoderCompressor";

  private readonly source: ModelSourceParams;
  private readonly injected?: { tokenizer: CrossEncoderTokenizer; model: CrossEncoderSequenceModel };
  private loading?: Promise<LoadedCrossEncoder>;
  private readonly cache?: ScoreCache;

  constructor(params: CrossEncoderCompressorParams = {}) {
    super();
    this.model = params.model ?? this.model;
    checkModelName("model", this.model, DEFAULT_RERANKER_MODEL);
    this.quantized = params.quantized ?? this.quantized;
    this.topN = params.topN ?? this.topN;
    this.batchSize = params.batchSize ?? (this.quantized ? 1 : 32);
    this.maxBatchTokens = params.maxBatchTokens ?? this.maxBatchTokens;
    this.longDocuments = params.longDocuments ?? this.longDocuments;
    this.maxPassages = params.maxPassages ?? this.maxPassages;
    this.dedupe = params.dedupe ?? this.dedupe;
    this.cacheSize = params.cacheSize ?? this.cacheSize;
    this.inferenceWorker = params.inferenceWorker ?? this.inferenceWorker;
    this.inferenceNice = params.inferenceNice ?? this.inferenceNice;
    this.profile = knownRerankerProfile(this.model);
    this.activation = params.activation ?? this.profile?.activation;
    this.maxLength = params.maxLength;
    this.maxQueryLength = params.maxQueryLength;
    this.passageOverlap = params.passageOverlap;
    this.scoreThreshold = params.scoreThreshold;
    this.source = {
      localModelRoot: params.localModelRoot,
      offline: params.offline,
      transformersRuntime: params.transformersRuntime,
      onProgress: params.onProgress,
    };

    checkCrossEncoderSettings(this);
    if ((params.tokenizer === undefined) !== (params.sequenceModel === undefined)) {
      throw new InvalidArgumentError("Pass both `tokenizer` and `sequenceModel` to inject a model, or neither.");
    }
    if (params.tokenizer && params.sequenceModel) {
      this.injected = { tokenizer: params.tokenizer, model: params.sequenceModel };
    }
    this.cache = params.scoreCache ?? (this.cacheSize > 0 ? new LruCache<number>(this.cacheSize) : undefined);
  }

  /** Loads the model once; concurrent first calls share the same load. */
  private load(): Promise<LoadedCrossEncoder> {
    if (!this.loading) {
      const pending = this.injected
        ? transformersRuntime(this.source.transformersRuntime).then((runtime) =>
            fromParts(this.injected!.tokenizer, this.injected!.model, runtime),
          )
        : loadCrossEncoder(this.model, this.quantized, this.source, {
            worker: this.inferenceWorker,
            nice: this.inferenceNice,
          });
      this.loading = pending.then(async (found) => {
        const loaded = { ...found, maxLength: Math.min(found.maxLength, this.profile?.maxLength ?? found.maxLength) };
        try {
          checkClassificationHead(loaded.model, this.model);
          resolveActivation(this.activation, loaded.numLabels, this.model);
          tokenizerFingerprint(loaded.tokenizer); // hashed once here, at load, not inside a tokenization slice
          if (this.maxLength !== undefined && this.maxLength > loaded.maxLength) {
            throw new InvalidArgumentError(
              `maxLength ${this.maxLength} exceeds the model's maximum of ${loaded.maxLength} tokens. Use at most ${loaded.maxLength}.`,
            );
          }
          const { prefix, middle, suffix } = loaded.template;
          checkPairRoom(
            this.maxLength ?? loaded.maxLength,
            prefix.length + middle.length + suffix.length,
            this.maxQueryLength,
            `this model's pair template`,
          );
        } catch (error) {
          if (!this.injected) await loaded.model.dispose?.(); // a model this reranker loaded: free it (its worker)
          throw error;
        }
        return loaded;
      });
      this.loading.catch(() => {
        this.loading = undefined; // a failed load can be retried
      });
    }
    return this.loading;
  }

  /**
   * The options that rebuild this compressor — what a saved index records so `TwoStageRetriever.load` brings it
   * back — or undefined when it runs an injected tokenizer and model, which cannot be saved. Where models are found
   * (`localModelRoot`, `offline`) belongs to the machine, not the index, and is not recorded.
   */
  savedParams(): CrossEncoderCompressorParams | undefined {
    if (this.injected) return undefined;
    const params: CrossEncoderCompressorParams = {
      model: this.model,
      quantized: this.quantized,
      topN: this.topN,
      batchSize: this.batchSize,
      maxBatchTokens: this.maxBatchTokens,
      longDocuments: this.longDocuments,
      maxPassages: this.maxPassages,
      dedupe: this.dedupe,
      cacheSize: this.cacheSize,
      inferenceWorker: this.inferenceWorker,
      inferenceNice: this.inferenceNice,
      activation: this.activation,
      maxLength: this.maxLength,
      maxQueryLength: this.maxQueryLength,
      passageOverlap: this.passageOverlap,
      scoreThreshold: this.scoreThreshold,
    };
    return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  }

  /**
   * Releases the model: this reranker's share of its ONNX Runtime session, which every reranker that loads the same
   * model file shares (the last one out leaves it idle for the next load; a few idle sessions are kept, since ONNX
   * Runtime 1.14 frees a session only when V8 collects it). The next call loads it again. Injected models are disposed
   * too.
   */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (this.cache instanceof LruCache) this.cache.clear();
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    await loaded?.model.dispose?.();
  }

  /**
   * Encodes (query, text) pairs with token-level truncation and groups them into padded, length-bucketed batches.
   * Exposed for benchmarks and diagnostics; {@link score} runs exactly these batches.
   */
  async encodeBatches(
    query: string,
    texts: readonly string[],
  ): Promise<{ batches: PaddedBatch[]; pairs: number; maxBlockMs: number }> {
    const loaded = await this.load();
    return this.prepare(loaded, query, texts);
  }

  private async prepare(
    loaded: LoadedCrossEncoder,
    query: string,
    texts: readonly string[],
  ): Promise<{ batches: PaddedBatch[]; pairs: number; maxBlockMs: number }> {
    const { tokenizer, template } = loaded;
    const maxLength = this.maxLength ?? loaded.maxLength;
    const specials = template.prefix.length + template.middle.length + template.suffix.length;
    const queryLimit = Math.min(this.maxQueryLength ?? Math.floor(maxLength / 2), maxLength - specials - 1);
    const queryIds = tokenizer.encode(query, null, { add_special_tokens: false }).slice(0, Math.max(1, queryLimit));
    const budget = documentBudget(template, queryIds.length, maxLength);
    const overlap = this.passageOverlap ?? Math.floor(budget / 4);
    if (overlap >= budget) {
      throw new InvalidArgumentError(
        `passageOverlap ${overlap} must be smaller than the passage window of ${budget} tokens.`,
      );
    }
    // Tokens read per document: one window, or maxPassages overlapping windows. Nothing past them is tokenized.
    const windowsRead = this.longDocuments === "maxPassage" ? this.maxPassages : 1;
    const readTokens = budget + (windowsRead - 1) * Math.max(1, budget - overlap);
    const pairs: EncodedPair[] = [];
    // Yield before the first slice: called from an I/O callback (a model result, a request), the first yield would
    // run the next slice before any timer, so the loop would see the caller's work and two slices in a row.
    await new Promise((resolve) => setImmediate(resolve));
    let maxBlockMs = 0;
    let sliceStart = performance.now();
    for (let i = 0; i < texts.length; i++) {
      const docIds = documentTokens(tokenizer, texts[i], readTokens).slice(0, readTokens);
      const windows = this.longDocuments === "maxPassage" ? passageWindows(docIds, budget, overlap) : [docIds];
      for (const window of windows) pairs.push(encodePair(template, queryIds, window, i));
      if (performance.now() - sliceStart >= SLICE_MS) {
        maxBlockMs = Math.max(maxBlockMs, performance.now() - sliceStart);
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    const batches = lengthBucketedBatches(pairs, this.batchSize, this.maxBatchTokens).map((batch) =>
      padBatch(batch, template.pad),
    );
    maxBlockMs = Math.max(maxBlockMs, performance.now() - sliceStart);
    return { batches, pairs: pairs.length, maxBlockMs };
  }

  /** The cache-key prefix shared by every document of one call: settings and the query's hash. */
  private cacheKeyPrefix(query: string, loaded: LoadedCrossEncoder): string {
    const activation = resolveActivation(this.activation, loaded.numLabels, this.model);
    return `${this.model}@${loaded.fingerprint ?? ""}|${this.quantized}|${this.maxLength ?? loaded.maxLength}|${this.longDocuments}:${this.maxPassages}|${activation}|${sha1(query)}`;
  }

  /** Padded tokens of the batches that scoring `texts` would run (what a latency budget prices). */
  async costUnits(query: string, texts: readonly string[]): Promise<number> {
    const { batches } = await this.encodeBatches(query, texts);
    return batches.reduce((sum, batch) => sum + batch.rows * batch.columns, 0);
  }

  /** `score` on checked arguments (the query and texts are checked once, at the public method). */
  protected async scoreTexts(query: string, texts: readonly string[], options: ScoreOptions = {}): Promise<number[]> {
    if (texts.length === 0) return [];
    const { signal } = options;
    signal?.throwIfAborted();
    const started = performance.now();
    const loaded = await this.load();
    const activation = resolveActivation(this.activation, loaded.numLabels, this.model);
    const keyPrefix = this.cache ? this.cacheKeyPrefix(query, loaded) : "";
    const scores = new Array<number>(texts.length);
    const firstIndex = new Map<string, number>();
    const pending: number[] = [];
    let cacheHits = 0;
    texts.forEach((text, i) => {
      const cached = this.cache?.get(`${keyPrefix}|${sha1(text)}`);
      if (cached !== undefined) {
        scores[i] = cached;
        cacheHits += 1;
      } else if (!firstIndex.has(text)) {
        firstIndex.set(text, i);
        pending.push(i);
      }
    });

    const prepareStarted = performance.now();
    const { batches, pairs, maxBlockMs } = await this.prepare(
      loaded,
      query,
      pending.map((i) => texts[i]),
    );
    const prepareMs = performance.now() - prepareStarted;
    const best = new Array<number>(pending.length).fill(-Infinity);
    let modelMs = 0;
    for (const [b, batch] of batches.entries()) {
      // ONNX Runtime (node, 1.14) runs a session synchronously from process.nextTick, so consecutive batches would
      // hold the event loop for the whole rerank: let other work in between.
      if (b > 0) await new Promise((resolve) => setImmediate(resolve));
      signal?.throwIfAborted(); // cancelled: no further batch starts
      const modelStarted = performance.now();
      const { logits } = await loaded.model(modelInputs(batch, loaded));
      modelMs += performance.now() - modelStarted;
      if (logits?.data === undefined) throw noClassificationHead(this.model, "it returns no logits");
      const data = logits.data as Float32Array;
      batch.pairs.forEach((pair, row) => {
        const value = activate(data, row * loaded.numLabels, loaded.numLabels, activation);
        if (value > best[pair.owner]) best[pair.owner] = value;
      });
    }
    pending.forEach((textIndex, k) => {
      scores[textIndex] = best[k];
      this.cache?.set(`${keyPrefix}|${sha1(texts[textIndex])}`, best[k]);
    });
    texts.forEach((text, i) => {
      if (scores[i] === undefined) scores[i] = scores[firstIndex.get(text)!];
    });
    this.lastStats = {
      texts: texts.length,
      pairs,
      batches: batches.length,
      tokens: batches.reduce((sum, batch) => sum + batch.rows * batch.columns, 0),
      cacheHits,
      prepareMs,
      maxBlockMs,
      modelMs,
      totalMs: performance.now() - started,
    };
    return scores;
  }
}
