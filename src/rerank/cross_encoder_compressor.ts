import { createHash } from "node:crypto";

import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import {
  checkDocumentList,
  checkModelName,
  checkQuery,
  checkTextList,
  describeValue,
  positiveInteger,
} from "../validation.js";
import type { ModelSourceParams } from "../models/model_source.js";
import { type KnownCrossEncoderId, type RerankerProfile, knownRerankerProfile } from "../models/reranker_profiles.js";
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
import { withRun } from "../callbacks.js";
import { DEFAULT_RERANKER_MODEL } from "../defaults.js";
import type { RerankedDocumentMetadata } from "../documents/result_metadata.js";
import { type CandidateRanking, rankedDocuments, rankScoredCandidates } from "./candidate_ranking.js";
import { documentKey, duplicateKeys } from "../documents/document_key.js";
import { LruCache } from "./lru_cache.js";
import { documentTokens, tokenizerFingerprint } from "./token_cache.js";

export { headTokens } from "./token_cache.js";
import { modelInputs } from "./model_inputs.js";
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

/** Options of {@link CrossEncoderCompressor}. */
export interface CrossEncoderCompressorParams extends ModelSourceParams {
  /**
   * Hub id or local model directory (config.json, tokenizer.json, onnx/model_quantized.onnx).
   * @default "Xenova/ms-marco-MiniLM-L-6-v2"
   */
  model?: KnownCrossEncoderId | (string & {});
  /**
   * Load `onnx/model_quantized.onnx` (int8) instead of `onnx/model.onnx`, as transformers.js does by default.
   * @default true
   */
  quantized?: boolean;
  /**
   * Run the model in a worker thread: ONNX Runtime 1.14 computes each batch synchronously on the thread that calls
   * it, so on the caller's thread every batch (up to about a second) would block its event loop. Tokenization stays
   * on the caller's thread, in slices of a few milliseconds. Applies to models this reranker loads (`model`); an
   * injected {@link sequenceModel} runs where it was loaded.
   * @default true
   */
  inferenceWorker?: boolean;
  /**
   * With {@link inferenceWorker}, on Linux: how much lower the inference threads' CPU priority (nice) is than the
   * process's. A lowered worker yields the cores to the thread running the event loop at once, and to every other
   * process too: against two busy processes on 2 cores, 100 candidates took 3.7 s at nice 10 and 0.63 s at 0 (the
   * TinyBERT-L2 shape). Worth it only where the event loop's latency matters more than the rerank's. 0 keeps the
   * process's priority.
   * @default 0
   */
  inferenceNice?: number;
  /** A ready transformers.js tokenizer, with {@link sequenceModel}: nothing is loaded (share one model). */
  tokenizer?: CrossEncoderTokenizer;
  /** A ready transformers.js `AutoModelForSequenceClassification` model, with {@link tokenizer}. */
  sequenceModel?: CrossEncoderSequenceModel;
  /**
   * How many documents `compressDocuments` returns.
   * @default 3
   */
  topN?: number;
  /**
   * `sigmoid` for 1-logit heads, `softmax` (probability of label 1) for 2-label heads, `none` for raw logits
   * (log-odds `l1 - l0` for 2 labels). A choice that does not fit the model's head is refused when it loads.
   * @default the known model's profile (see `RERANKER_PROFILES`), else "sigmoid" for 1-logit heads, "softmax" for
   * 2-label heads
   */
  activation?: CrossEncoderActivation;
  /**
   * Longest pair in tokens, special tokens included. The query is kept whole (up to {@link maxQueryLength}); the
   * document is cut (or windowed, see {@link longDocuments}) to fit. It must leave at least 3 document tokens with the
   * query at its limit: at least 11 with the default query limit and a `[CLS] q [SEP] d [SEP]` template.
   * @default the model's maximum: tokenizer `model_max_length`, capped by the position embeddings (512 for MiniLM;
   * `max_position_embeddings - pad_token_id - 1` for RoBERTa-family models: 514 → 512 for XLM-R) and by the known
   * model's profile
   */
  maxLength?: number;
  /**
   * Longest query in tokens; longer queries are cut at their end.
   * @default half of maxLength
   */
  maxQueryLength?: number;
  /**
   * Largest number of pairs in one model call. Quantized (int8) models score one pair per call by default: their
   * dynamic quantization scales activations per batch, so in a padded batch a pair's logit moves with the other
   * pairs in it (up to 1.08 logits on SciFact with ms-marco-MiniLM-L-12-v2 int8; 16 of 20 queries got another top
   * 10). One pair per call gives every (query, document) one score, equal to onnxruntime-python's to 5e-7, at the same
   * speed on a 2-core CPU (`npm run bench:int8-batching`). fp32 models are batched.
   * @default 1 for quantized models (the default), 32 with `quantized: false`
   */
  batchSize?: number;
  /**
   * Largest padded batch, in tokens (rows × longest row): bounds activation memory per call. MiniLM-L6 needs about
   * 2 KB of activations per token and layer plus 12 × length² attention scores per row, so the default (32 rows of
   * 512 tokens) peaks near 200 MB.
   * @default 16384
   */
  maxBatchTokens?: number;
  /**
   * `truncate`: score the start of each document. `maxPassage`: score overlapping windows of the document and keep
   * the best (catches a relevant passage past the truncation point).
   * @default "truncate"
   */
  longDocuments?: "truncate" | "maxPassage";
  /**
   * Most windows scored per document with `maxPassage`: the document is read (tokenized) only up to the end of the
   * last one, so a huge document costs no more than this many windows. 8 windows of a 512-token model cover about
   * 3,000 document tokens (12–15k characters of English).
   * @default 8
   */
  maxPassages?: number;
  /**
   * Tokens shared by consecutive windows with `maxPassage`.
   * @default a quarter of the window
   */
  passageOverlap?: number;
  /**
   * Drop documents scoring below this (after activation: a probability in [0, 1] unless activation is `none`).
   * @default undefined (keep all)
   */
  scoreThreshold?: number;
  /**
   * Return identical documents once: the same document (`doc.id`, else `metadata.id`, else `metadata.docId`; see
   * `documentKey`) or the same `pageContent`.
   * @default true
   */
  dedupe?: boolean;
  /**
   * Entries of an LRU score cache keyed by (model, quantized, maxLength, longDocuments, activation, query,
   * document hash); 0 turns it off.
   * @default 0
   */
  cacheSize?: number;
}

/** One result of {@link CrossEncoderCompressor.rerank}. */
export interface RerankResult {
  /** Position of the text in the input. */
  index: number;
  /** Score after activation. */
  relevanceScore: number;
}

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

/**
 * Fewest document tokens a pair must leave room for, with the query at its limit: below it, documents are cut to a
 * token or two and score alike.
 */
const MIN_PASSAGE_TOKENS = 3;

/** Special tokens of the smallest pair template, `[CLS] query [SEP] document [SEP]` (RoBERTa's has 4). */
const MIN_SPECIAL_TOKENS = 3;

/** Document tokens a pair of `maxLength` leaves with the query at its limit (as {@link CrossEncoderCompressor} cuts it). */
function passageRoom(maxLength: number, specials: number, maxQueryLength: number | undefined): number {
  const queryLimit = Math.max(1, Math.min(maxQueryLength ?? Math.floor(maxLength / 2), maxLength - specials - 1));
  return maxLength - specials - queryLimit;
}

/** Throws unless a pair of `maxLength` leaves room for the special tokens, the query and a passage. */
function checkPairRoom(maxLength: number, specials: number, maxQueryLength: number | undefined, model?: string): void {
  if (passageRoom(maxLength, specials, maxQueryLength) >= MIN_PASSAGE_TOKENS) return;
  let smallest = maxLength + 1;
  while (passageRoom(smallest, specials, maxQueryLength) < MIN_PASSAGE_TOKENS) smallest++;
  const query = maxQueryLength === undefined ? "half of it" : `maxQueryLength ${maxQueryLength}`;
  const room = Math.max(0, passageRoom(maxLength, specials, maxQueryLength));
  throw new InvalidArgumentError(
    `maxLength ${maxLength} leaves ${room} document token${room === 1 ? "" : "s"}: a ` +
      `pair holds ${specials} special tokens${model ? ` (${model})` : " ([CLS] query [SEP] document [SEP])"} and the ` +
      `query (${query}), and below ${MIN_PASSAGE_TOKENS} document tokens every document scores about the same. ` +
      `Use maxLength ${smallest} or more${maxQueryLength === undefined ? "" : ", or a smaller maxQueryLength"}, or omit ` +
      "it for the model's maximum.",
    { argument: "maxLength" },
  );
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
export class CrossEncoderCompressor extends BaseDocumentCompressor {
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

  private readonly source: ModelSourceParams;
  private readonly injected?: { tokenizer: CrossEncoderTokenizer; model: CrossEncoderSequenceModel };
  private loading?: Promise<LoadedCrossEncoder>;
  private readonly cache?: LruCache<number>;

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
    this.source = { localModelRoot: params.localModelRoot, offline: params.offline };

    positiveInteger("topN", this.topN);
    positiveInteger("batchSize", this.batchSize);
    positiveInteger("maxBatchTokens", this.maxBatchTokens);
    positiveInteger("maxLength", this.maxLength);
    positiveInteger("maxQueryLength", this.maxQueryLength);
    positiveInteger("maxPassages", this.maxPassages);
    if (this.maxLength !== undefined) checkPairRoom(this.maxLength, MIN_SPECIAL_TOKENS, this.maxQueryLength);
    if (this.passageOverlap !== undefined && (!Number.isInteger(this.passageOverlap) || this.passageOverlap < 0)) {
      throw new InvalidArgumentError(`passageOverlap must be a non-negative integer; got ${this.passageOverlap}.`);
    }
    if (typeof this.inferenceWorker !== "boolean") {
      throw new InvalidArgumentError(
        `inferenceWorker must be true or false; got ${describeValue(this.inferenceWorker)}.`,
        {
          argument: "inferenceWorker",
        },
      );
    }
    if (!Number.isInteger(this.inferenceNice) || this.inferenceNice < 0 || this.inferenceNice > 19) {
      throw new InvalidArgumentError(
        `inferenceNice must be an integer from 0 (the process's priority) to 19 (the lowest); got ${describeValue(this.inferenceNice)}.`,
        { argument: "inferenceNice" },
      );
    }
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 0) {
      throw new InvalidArgumentError(`cacheSize must be a non-negative integer (0 = off); got ${this.cacheSize}.`);
    }
    if (!["truncate", "maxPassage"].includes(this.longDocuments)) {
      throw new InvalidArgumentError(
        `Unknown longDocuments '${this.longDocuments}'. Expected one of: truncate, maxPassage.`,
      );
    }
    if (this.activation !== undefined && !["sigmoid", "softmax", "none"].includes(this.activation)) {
      throw new InvalidArgumentError(
        `Unknown activation '${this.activation}'. Expected one of: sigmoid, softmax, none.`,
      );
    }
    if (this.scoreThreshold !== undefined && typeof this.scoreThreshold !== "number") {
      const asNumber = typeof this.scoreThreshold === "string" ? Number(this.scoreThreshold) : NaN;
      throw new InvalidArgumentError(
        `scoreThreshold must be a number; got ${describeValue(this.scoreThreshold)}.` +
          (Number.isFinite(asNumber) && String(this.scoreThreshold).trim() !== ""
            ? ` Pass ${asNumber}, not a string.`
            : " Pass a probability in [0, 1], or omit it to keep every document."),
        { argument: "scoreThreshold" },
      );
    }
    if (this.scoreThreshold !== undefined) {
      const probability = this.activation !== "none";
      if (
        !Number.isFinite(this.scoreThreshold) ||
        (probability && (this.scoreThreshold < 0 || this.scoreThreshold > 1))
      ) {
        throw new InvalidArgumentError(
          `scoreThreshold ${this.scoreThreshold} is outside ${probability ? "[0, 1], the range of sigmoid/softmax scores" : "the finite numbers"}. ` +
            (probability ? "Pass a probability, or activation: 'none' to threshold raw logits." : ""),
        );
      }
    }
    if ((params.tokenizer === undefined) !== (params.sequenceModel === undefined)) {
      throw new InvalidArgumentError("Pass both `tokenizer` and `sequenceModel` to inject a model, or neither.");
    }
    if (params.tokenizer && params.sequenceModel) {
      this.injected = { tokenizer: params.tokenizer, model: params.sequenceModel };
    }
    if (this.cacheSize > 0) this.cache = new LruCache<number>(this.cacheSize);
  }

  /** Loads the model once; concurrent first calls share the same load. */
  private load(): Promise<LoadedCrossEncoder> {
    if (!this.loading) {
      const pending = this.injected
        ? Promise.resolve().then(() => fromParts(this.injected!.tokenizer, this.injected!.model))
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
    this.cache?.clear();
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
    return `${this.model}|${this.quantized}|${this.maxLength ?? loaded.maxLength}|${this.longDocuments}:${this.maxPassages}|${activation}|${sha1(query)}`;
  }

  /**
   * Relevance of each text to the query, in input order (after activation). Identical texts are scored once.
   *
   * @example
   * ```ts
   * await reranker.score("capital of France", ["Paris is the capital of France.", "Bananas are yellow."]);
   * // [0.97, 0.0003]
   * ```
   */
  async score(query: string, texts: readonly string[]): Promise<number[]> {
    checkQuery(query);
    checkTextList(texts, "score(query, [text])");
    return this.scoreTexts(query, texts);
  }

  /** {@link score} on checked arguments (the query and texts are checked once, at the public method). */
  private async scoreTexts(query: string, texts: readonly string[]): Promise<number[]> {
    if (texts.length === 0) return [];
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

  /**
   * Scores documents (or texts) against a query and returns the best first as `{ index, relevanceScore }` — the shape
   * and argument order of LangChain's `CohereRerank.rerank(documents, query)` — dropping duplicates (when `dedupe`)
   * and scores below `scoreThreshold`, at most `topN` (default: all).
   *
   * @example
   * ```ts
   * await reranker.rerank(["Bananas are yellow.", "Paris is the capital of France."], "capital of France");
   * // [{ index: 1, relevanceScore: 0.97 }, { index: 0, relevanceScore: 0.0003 }]
   * ```
   */
  async rerank(
    documents: readonly (string | DocumentInterface)[],
    query: string,
    options: { topN?: number } = {},
  ): Promise<RerankResult[]> {
    if (typeof documents === "string" && Array.isArray(query)) {
      throw new InvalidArgumentError(
        "rerank() takes (documents, query) since 0.2, like LangChain's compressDocuments and CohereRerank.rerank; " +
          "it was called as (query, documents). Swap the arguments.",
        { argument: "documents" },
      );
    }
    positiveInteger("topN", options.topN);
    if (!Array.isArray(documents)) {
      throw new InvalidArgumentError(
        `documents must be an array of strings or Documents; got ${describeValue(documents)}.`,
        { argument: "documents" },
      );
    }
    const docs = documents.map((doc) => (typeof doc === "string" ? new Document({ pageContent: doc }) : doc));
    const ranking = await this.rankCandidates(docs, query);
    return ranking.order
      .slice(0, options.topN ?? ranking.order.length)
      .map((index) => ({ index, relevanceScore: ranking.scores[index] }));
  }

  /**
   * Relevance of each document, in input order; each distinct text is scored once, and a repeat of one document
   * ({@link documentKey}, when `dedupe`) carries the score of its first copy.
   */
  async scoreDocuments(documents: readonly DocumentInterface[], query: string): Promise<number[]> {
    checkDocumentList(documents);
    if (documents.length === 0) return [];
    checkQuery(query);
    return this.scoreCheckedDocuments(documents, query);
  }

  private async scoreCheckedDocuments(documents: readonly DocumentInterface[], query: string): Promise<number[]> {
    if (documents.length === 0) return [];
    // A repeat of a document (same key, when dedupe) carries the score of its first copy; each text is scored once.
    const first = new Map<string, number>();
    const source = documents.map((doc, i) => {
      const key = this.dedupe ? documentKey(doc) : `${i}`;
      if (!first.has(key)) first.set(key, i);
      return first.get(key)!;
    });
    const texts = [...new Set(source.map((i) => documents[i].pageContent))];
    const scores = await this.scoreTexts(query, texts);
    const byText = new Map(texts.map((text, k) => [text, scores[k]]));
    return source.map((i) => byText.get(documents[i].pageContent)!);
  }

  /**
   * Applies this reranker's `dedupe` and `scoreThreshold` to scored documents: what it keeps and in which order.
   * The one ranking rule behind {@link compressDocuments}, {@link rerank}, `TwoStageRetriever.invoke`, `explain`
   * and `evaluate`.
   */
  rankScored(documents: readonly DocumentInterface[], scores: readonly number[]): CandidateRanking {
    return rankScoredCandidates(scores, this.dedupe ? documents.map(duplicateKeys) : undefined, this.scoreThreshold);
  }

  /**
   * Scores and ranks every candidate ({@link scoreDocuments} then {@link rankScored}), as one run in LangChain
   * callbacks with input count, kept count, output count (`topN` of them, when given) and milliseconds.
   */
  async rankCandidates(
    documents: readonly DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
    topN?: number,
  ): Promise<CandidateRanking> {
    checkQuery(query);
    checkDocumentList(documents);
    if (documents.length === 0) return { scores: [], dropped: [], order: [] };
    const { result } = await withRun(
      callbacks,
      "CrossEncoderCompressor",
      { query, inputCount: documents.length, model: this.model },
      async () => this.rankScored(documents, await this.scoreCheckedDocuments(documents, query)),
      (ranking, ms) => ({
        inputCount: documents.length,
        keptCount: ranking.order.length,
        outputCount: Math.min(ranking.order.length, topN ?? ranking.order.length),
        ms,
      }),
    );
    return result;
  }

  /**
   * Reranks LangChain documents: new Documents (the inputs are not modified), best first, at most `topN`, with
   * `metadata.relevanceScore` and 1-based `metadata.rerankRank`; other metadata is kept. The rerank appears as its
   * own run in LangChain callbacks and tracing, with input count, kept count and milliseconds.
   */
  override async compressDocuments(
    documents: DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
  ): Promise<DocumentInterface<RerankedDocumentMetadata>[]> {
    return this.rerankDocuments(documents, query, this.topN, callbacks);
  }

  /** {@link compressDocuments} with an explicit result count. */
  async rerankDocuments(
    documents: DocumentInterface[],
    query: string,
    topN: number,
    callbacks?: Callbacks,
  ): Promise<DocumentInterface<RerankedDocumentMetadata>[]> {
    positiveInteger("topN", topN);
    const ranking = await this.rankCandidates(documents, query, callbacks, topN);
    // This reranker reads every candidate (no budget), so every document carries its relevanceScore.
    return rankedDocuments(documents, ranking, topN) as Document<RerankedDocumentMetadata>[];
  }
}
