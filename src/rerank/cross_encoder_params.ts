// The options of CrossEncoderCompressor and their checks, apart from its behaviour (cross_encoder_compressor.ts):
// every field's JSDoc with the @default the class applies, and the one function that refuses a bad combination
// before anything loads.
import type {
  CrossEncoderActivation,
  CrossEncoderSequenceModel,
  CrossEncoderTokenizer,
} from "../models/cross_encoder_model.js";
import type { ModelSourceParams } from "../models/model_source.js";
import type { KnownCrossEncoderId } from "../models/reranker_profiles.js";
import { InvalidArgumentError } from "../errors.js";
import type { ScoreCache } from "./score_cache.js";
import { describeValue, positiveInteger } from "../validation.js";

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
  /**
   * Where scores are kept instead of the `cacheSize` LRU: e.g. a {@link ScoreCacheFile}, which keeps them between
   * runs. Keys name the model file, the settings that change a score, the query and the document text.
   * @default undefined (the `cacheSize` LRU, when `cacheSize` > 0)
   */
  scoreCache?: ScoreCache;
}

/** The options a CrossEncoderCompressor resolved (its defaults applied), as {@link checkCrossEncoderSettings} reads them. */
export interface CrossEncoderSettings {
  readonly topN: number;
  readonly batchSize: number;
  readonly maxBatchTokens: number;
  readonly longDocuments: "truncate" | "maxPassage";
  readonly maxPassages: number;
  readonly cacheSize: number;
  readonly inferenceWorker: boolean;
  readonly inferenceNice: number;
  readonly activation?: CrossEncoderActivation;
  readonly maxLength?: number;
  readonly maxQueryLength?: number;
  readonly passageOverlap?: number;
  readonly scoreThreshold?: number;
}

/**
 * Fewest document tokens a pair must leave room for, with the query at its limit: below it, documents are cut to a
 * token or two and score alike.
 */
export const MIN_PASSAGE_TOKENS = 3;

/** Special tokens of the smallest pair template, `[CLS] query [SEP] document [SEP]` (RoBERTa's has 4). */
export const MIN_SPECIAL_TOKENS = 3;

/** Document tokens a pair of `maxLength` leaves with the query at its limit (as {@link CrossEncoderCompressor} cuts it). */
export function passageRoom(maxLength: number, specials: number, maxQueryLength: number | undefined): number {
  const queryLimit = Math.max(1, Math.min(maxQueryLength ?? Math.floor(maxLength / 2), maxLength - specials - 1));
  return maxLength - specials - queryLimit;
}

/** Throws unless a pair of `maxLength` leaves room for the special tokens, the query and a passage. */
export function checkPairRoom(
  maxLength: number,
  specials: number,
  maxQueryLength: number | undefined,
  model?: string,
): void {
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

/** Throws an InvalidArgumentError naming the first option of `settings` out of range or of the wrong type. */
export function checkCrossEncoderSettings(settings: CrossEncoderSettings): void {
  positiveInteger("topN", settings.topN);
  positiveInteger("batchSize", settings.batchSize);
  positiveInteger("maxBatchTokens", settings.maxBatchTokens);
  positiveInteger("maxLength", settings.maxLength);
  positiveInteger("maxQueryLength", settings.maxQueryLength);
  positiveInteger("maxPassages", settings.maxPassages);
  if (settings.maxLength !== undefined) checkPairRoom(settings.maxLength, MIN_SPECIAL_TOKENS, settings.maxQueryLength);
  if (
    settings.passageOverlap !== undefined &&
    (!Number.isInteger(settings.passageOverlap) || settings.passageOverlap < 0)
  ) {
    throw new InvalidArgumentError(`passageOverlap must be a non-negative integer; got ${settings.passageOverlap}.`);
  }
  if (typeof settings.inferenceWorker !== "boolean") {
    throw new InvalidArgumentError(
      `inferenceWorker must be true or false; got ${describeValue(settings.inferenceWorker)}.`,
      {
        argument: "inferenceWorker",
      },
    );
  }
  if (!Number.isInteger(settings.inferenceNice) || settings.inferenceNice < 0 || settings.inferenceNice > 19) {
    throw new InvalidArgumentError(
      `inferenceNice must be an integer from 0 (the process's priority) to 19 (the lowest); got ${describeValue(settings.inferenceNice)}.`,
      { argument: "inferenceNice" },
    );
  }
  if (!Number.isInteger(settings.cacheSize) || settings.cacheSize < 0) {
    throw new InvalidArgumentError(`cacheSize must be a non-negative integer (0 = off); got ${settings.cacheSize}.`);
  }
  if (!["truncate", "maxPassage"].includes(settings.longDocuments)) {
    throw new InvalidArgumentError(
      `Unknown longDocuments '${settings.longDocuments}'. Expected one of: truncate, maxPassage.`,
    );
  }
  if (settings.activation !== undefined && !["sigmoid", "softmax", "none"].includes(settings.activation)) {
    throw new InvalidArgumentError(
      `Unknown activation '${settings.activation}'. Expected one of: sigmoid, softmax, none.`,
    );
  }
  if (settings.scoreThreshold !== undefined && typeof settings.scoreThreshold !== "number") {
    const asNumber = typeof settings.scoreThreshold === "string" ? Number(settings.scoreThreshold) : NaN;
    throw new InvalidArgumentError(
      `scoreThreshold must be a number; got ${describeValue(settings.scoreThreshold)}.` +
        (Number.isFinite(asNumber) && String(settings.scoreThreshold).trim() !== ""
          ? ` Pass ${asNumber}, not a string.`
          : " Pass a probability in [0, 1], or omit it to keep every document."),
      { argument: "scoreThreshold" },
    );
  }
  if (settings.scoreThreshold !== undefined) {
    const probability = settings.activation !== "none";
    if (
      !Number.isFinite(settings.scoreThreshold) ||
      (probability && (settings.scoreThreshold < 0 || settings.scoreThreshold > 1))
    ) {
      throw new InvalidArgumentError(
        `scoreThreshold ${settings.scoreThreshold} is outside ${probability ? "[0, 1], the range of sigmoid/softmax scores" : "the finite numbers"}. ` +
          (probability ? "Pass a probability, or activation: 'none' to threshold raw logits." : ""),
      );
    }
  }
}
