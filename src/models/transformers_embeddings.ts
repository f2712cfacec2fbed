import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import type { FeatureExtractionPipeline } from "@xenova/transformers";

import { DEFAULT_EMBEDDING_MODEL } from "../defaults.js";
import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { checkModelName, checkTextList, describeValue, positiveInteger } from "../validation.js";
import { type ModelSourceParams, resolveModelSource, runtimeLoadOptions } from "./model_source.js";
import { type RuntimeEncoder, transformersRuntime } from "./transformers_runtime.js";
import { progressReporter } from "./progress.js";
import { type EmbeddingProfile, type KnownEmbeddingId, resolveEmbeddingProfile } from "./embedding_profiles.js";
import type { Lease } from "../inference/shared_sessions.js";
import { acquireFeatureExtraction } from "../inference/feature_extraction_sessions.js";

export type { KnownEmbeddingId } from "./embedding_profiles.js";

/** Options of {@link TransformersEmbeddings}. */
export interface TransformersEmbeddingsParams extends EmbeddingsParams, ModelSourceParams {
  /**
   * Hub id or local model directory.
   * @default "Xenova/bge-small-en-v1.5"
   */
  model?: KnownEmbeddingId | (string & {});
  /**
   * Load the int8 `onnx/model_quantized.onnx`.
   * @default true
   */
  quantized?: boolean;
  /**
   * Most texts per model call in `embedDocuments`.
   * @default 32
   */
  batchSize?: number;
  /**
   * Largest padded batch in tokens (rows × longest row, after truncation to the model's maximum): bounds the
   * activation memory of one model call, so peak memory does not grow with `batchSize` on long texts. Texts are
   * grouped by length (and returned in input order). With a MiniLM-L6-shaped model, 4096 tokens (8 texts of 512
   * tokens) kept the peak RSS of indexing 200 long texts near 500 MB, where 32 × 512 peaked at 2.2 GB.
   * @default 4096
   */
  maxBatchTokens?: number;
  /**
   * Token pooling: `mean` over the attention mask (MiniLM, E5, GTE, nomic) or `cls` (BGE).
   * @default the model's profile: its sentence-transformers files, else the built-in table, else "mean"
   */
  pooling?: "mean" | "cls";
  /**
   * Text prepended to every query by `embedQuery` (E5: `"query: "`, BGE: its retrieval instruction, nomic:
   * `"search_query: "`).
   * @default the model's profile, else "" (none)
   */
  queryPrefix?: string;
  /**
   * Text prepended to every document by `embedDocuments` (E5: `"passage: "`, nomic: `"search_document: "`).
   * @default the model's profile, else "" (none)
   */
  documentPrefix?: string;
  /**
   * L2-normalise embeddings, so inner product is cosine similarity.
   * @default the model's profile, else true
   */
  normalize?: boolean;
  /**
   * Longest input in tokens (prefix and special tokens included); longer texts are cut.
   * @default the model's profile (256 for all-MiniLM-L6-v2), else the tokenizer's `model_max_length`
   */
  maxLength?: number;
  /**
   * A ready transformers.js feature-extraction pipeline: nothing is loaded (share one model). It stays the
   * caller's: `dispose()` does not free it, and it keeps serving later calls. A pipeline of
   * `@huggingface/transformers` is accepted too (with `transformersRuntime: "@huggingface/transformers"`).
   */
  extractor?: FeatureExtractionPipeline | { tokenizer: unknown; model: unknown };
}

/**
 * Pools token vectors [batch, sequence, hidden] into one vector per row: the mean over attended tokens, or the
 * first ([CLS]) token; optionally L2-normalised.
 */
export function poolRows(
  data: Float32Array,
  mask: BigInt64Array,
  batch: number,
  sequence: number,
  hidden: number,
  pooling: "mean" | "cls",
  normalize: boolean,
): number[][] {
  const rows: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const vector = new Float64Array(hidden);
    if (pooling === "cls") {
      for (let j = 0; j < hidden; j++) vector[j] = data[b * sequence * hidden + j];
    } else {
      let count = 0;
      for (let s = 0; s < sequence; s++) {
        if (mask[b * sequence + s] === 0n) continue;
        count += 1;
        const offset = (b * sequence + s) * hidden;
        for (let j = 0; j < hidden; j++) vector[j] += data[offset + j];
      }
      if (count > 0) for (let j = 0; j < hidden; j++) vector[j] /= count;
    }
    if (normalize) {
      let norm = 0;
      for (let j = 0; j < hidden; j++) norm += vector[j] * vector[j];
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < hidden; j++) vector[j] *= scale;
    }
    rows.push(Array.from(vector));
  }
  return rows;
}

/**
 * Ends every truncated row with the tokenizer's closing special token, as sentence-transformers does:
 * transformers.js cuts `[CLS] t1 … tn [SEP]` to `max_length` tokens after adding the special tokens, dropping the
 * `[SEP]`. A row whose last attended token is not `endId` was cut; its last token becomes `endId`. In place.
 */
export function closeTruncatedRows(ids: BigInt64Array, mask: BigInt64Array, columns: number, endId: number): void {
  const end = BigInt(endId);
  for (let start = 0; start < ids.length; start += columns) {
    let last = start + columns - 1;
    while (last >= start && mask[last] === 0n) last -= 1;
    if (last > start && ids[last] !== end) ids[last] = end;
  }
}

/**
 * LangChain `Embeddings` computed locally with transformers.js (the same ONNX Runtime as the reranker), offline
 * from a local directory when needed. The model's profile (pooling, query and document prefixes, maximum length) is
 * applied by default; see `EMBEDDING_PROFILES`. The model loads once, on first use; `dispose()` frees it.
 *
 * @example
 * ```ts
 * const embeddings = new TransformersEmbeddings(); // Xenova/bge-small-en-v1.5: CLS pooling, query instruction, normalised
 * const [vector] = await embeddings.embedDocuments(["FAISS searches vectors"]);
 * vector.length; // 384
 *
 * new TransformersEmbeddings({ model: "Xenova/e5-small-v2" }).profile;
 * // { pooling: "mean", queryPrefix: "query: ", documentPrefix: "passage: ", normalize: true, maxLength: 512,
 * //   source: "profile:Xenova/e5-small-v2" }
 * ```
 */
export class TransformersEmbeddings extends Embeddings {
  readonly model: string = DEFAULT_EMBEDDING_MODEL;
  readonly quantized: boolean = true;
  readonly batchSize: number = 32;
  readonly maxBatchTokens: number = 4096;
  readonly pooling: "mean" | "cls";
  readonly normalize: boolean;
  readonly queryPrefix: string;
  readonly documentPrefix: string;
  readonly maxLength?: number;
  /**
   * The resolved profile (pooling, prefixes, normalisation, maximum length and where they came from). Record it
   * with an index and pass its fields back as options to query the index exactly as it was built.
   */
  readonly profile: EmbeddingProfile;

  private readonly source: ModelSourceParams;
  private loading?: Promise<RuntimeEncoder>;
  /** This instance's share of the encoder it loaded (one per model, shared by every instance that loads it). */
  private lease?: Promise<Lease<RuntimeEncoder>>;
  private readonly injected?: { tokenizer: unknown; model: unknown };

  constructor(params: TransformersEmbeddingsParams = {}) {
    super(params);
    this.model = params.model ?? this.model;
    checkModelName("model", this.model, DEFAULT_EMBEDDING_MODEL);
    this.quantized = params.quantized ?? this.quantized;
    this.batchSize = params.batchSize ?? this.batchSize;
    this.source = {
      localModelRoot: params.localModelRoot,
      offline: params.offline,
      transformersRuntime: params.transformersRuntime,
      onProgress: params.onProgress,
    };
    if (params.pooling !== undefined && params.pooling !== "mean" && params.pooling !== "cls") {
      throw new InvalidArgumentError(`Unknown pooling '${String(params.pooling)}'. Expected one of: mean, cls.`);
    }
    for (const key of ["queryPrefix", "documentPrefix"] as const) {
      if (params[key] !== undefined && typeof params[key] !== "string") {
        throw new InvalidArgumentError(`${key} must be a string (use "" for none); got ${typeof params[key]}.`);
      }
    }
    positiveInteger("batchSize", this.batchSize);
    positiveInteger("maxLength", params.maxLength);
    this.profile = resolveEmbeddingProfile(
      this.model,
      {
        pooling: params.pooling,
        queryPrefix: params.queryPrefix,
        documentPrefix: params.documentPrefix,
        normalize: params.normalize,
        maxLength: params.maxLength,
      },
      this.source,
    );
    ({
      pooling: this.pooling,
      normalize: this.normalize,
      queryPrefix: this.queryPrefix,
      documentPrefix: this.documentPrefix,
      maxLength: this.maxLength,
    } = this.profile);
    this.maxBatchTokens = params.maxBatchTokens ?? this.maxBatchTokens;
    positiveInteger("maxBatchTokens", this.maxBatchTokens);
    if (params.extractor) {
      const injected = params.extractor;
      this.injected = injected;
      this.loading = transformersRuntime(this.source.transformersRuntime).then((runtime) =>
        runtime.encoderFromPipeline(injected),
      );
    }
  }

  private load(): Promise<RuntimeEncoder> {
    if (!this.loading) {
      const lease = transformersRuntime(this.source.transformersRuntime).then((runtime) => {
        // A source that cannot be resolved is refused with its own message (it says what to do).
        const location = resolveModelSource(this.model, this.quantized, this.source, runtime.env);
        const options = runtimeLoadOptions(location, this.quantized, this.source);
        return acquireFeatureExtraction(runtime, location, options).catch((error: unknown) => {
          throw new ModelLoadError(
            `Could not load embedding model '${this.model}'${location.dir ? ` from ${location.dir}` : " from the hub"}` +
              ` with ${runtime.name}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        });
      });
      this.lease = lease;
      this.loading = lease
        .then(({ value }) => value)
        .catch((error: unknown) => {
          this.loading = undefined;
          this.lease = undefined;
          throw error;
        });
    }
    return this.loading;
  }

  /**
   * Embeds one batch. `longest` is the batch's longest row in tokens (after truncation), when known: transformers.js
   * pads every row to `max_length` when one is given, so it is set to the longest row, never more.
   */
  private async embedBatch(texts: string[], longest?: number): Promise<number[][]> {
    const extractor = await this.load();
    // Tokenizer and model are called directly and pooled here: transformers.js's own pooling walks the
    // [batch, sequence, hidden] tensor element by element and costs more than the model for small encoders.
    const maxLength =
      this.maxLength === undefined
        ? undefined
        : Math.min(
            this.maxLength,
            longest ??
              Math.max(
                ...texts.map((text) => extractor.tokenizer.encode(text, null, { add_special_tokens: true }).length),
              ),
          );
    const inputs = extractor.tokenizer.batch(texts, { padding: true, truncation: true, max_length: maxLength });
    const closing = extractor.tokenizer.encode("", null, { add_special_tokens: true });
    if (closing.length >= 2) {
      const columns = inputs.input_ids.dims[1] as number;
      closeTruncatedRows(inputs.input_ids.data, inputs.attention_mask.data, columns, closing[closing.length - 1]);
    }
    const outputs = await extractor.model(inputs);
    const hiddenStates = outputs.last_hidden_state ?? outputs.token_embeddings ?? Object.values(outputs)[0];
    const [batch, sequence, hidden] = hiddenStates.dims as number[];
    return poolRows(
      hiddenStates.data as Float32Array,
      inputs.attention_mask.data as BigInt64Array,
      batch,
      sequence,
      hidden,
      this.pooling,
      this.normalize,
    );
  }

  /**
   * Embeds documents with the profile's document prefix; one vector per text, in order. Texts are grouped by token
   * length into batches of at most `batchSize` texts and `maxBatchTokens` padded tokens. Local inference is called
   * directly, not through LangChain's retrying caller: a model that fails to load would otherwise be retried with
   * backoff for minutes.
   */
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    checkTextList(texts, "embedDocuments([text])");
    if (texts.length === 0) return [];
    const prefixed = this.documentPrefix ? texts.map((text) => this.documentPrefix + text) : texts;
    const extractor = await this.load();
    const out = new Array<number[]>(texts.length);
    const { batches, lengths } = this.plan(extractor, prefixed);
    const report = progressReporter(this.source.onProgress);
    let done = 0;
    for (const batch of batches) {
      const vectors = await this.embedBatch(
        batch.map((i) => prefixed[i]),
        Math.max(...batch.map((i) => lengths[i])),
      );
      batch.forEach((textIndex, row) => (out[textIndex] = vectors[row]));
      done += batch.length;
      report?.({ phase: "embed", done, total: texts.length });
    }
    return out;
  }

  /**
   * Groups text indices into batches, shortest first: at most `batchSize` rows and `maxBatchTokens` padded tokens
   * (a single text longer than the budget gets a batch of its own). Token counts are read from a bounded head of
   * each text (the model truncates there anyway).
   */
  private plan(extractor: RuntimeEncoder, texts: string[]): { batches: number[][]; lengths: number[] } {
    const tokenizer = extractor.tokenizer;
    const maxPositions = extractor.model.config?.max_position_embeddings;
    const maxLength = Math.min(this.maxLength ?? tokenizer.model_max_length ?? 512, maxPositions ?? 512, 8192);
    const lengths = texts.map((text) => {
      const head = text.length > maxLength * 8 ? text.slice(0, maxLength * 8) : text;
      const count = tokenizer.encode(head, null, { add_special_tokens: true }).length;
      return head.length < text.length && count < maxLength ? maxLength : Math.min(count, maxLength);
    });
    const order = texts.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
    const batches: number[][] = [];
    let current: number[] = [];
    for (const index of order) {
      const rows = current.length + 1;
      if (current.length > 0 && (rows > this.batchSize || rows * lengths[index] > this.maxBatchTokens)) {
        batches.push(current);
        current = [];
      }
      current.push(index);
    }
    if (current.length > 0) batches.push(current);
    return { batches, lengths };
  }

  /** Embeds one query, with the profile's query prefix. */
  override async embedQuery(text: string): Promise<number[]> {
    if (typeof text !== "string") throw new InvalidArgumentError(`query is ${describeValue(text)}, not a string.`);
    const [vector] = await this.embedBatch([this.queryPrefix + text]);
    return vector;
  }

  /**
   * Gives back the model this instance loaded; the next call loads the same configured model again. Instances that
   * load the same model files share one ONNX Runtime session; when the last of them is disposed it stays idle for
   * the next load (at most 2 idle ones: ONNX Runtime 1.14 frees a session only when V8 collects it). An injected
   * `extractor` is the caller's: it is not freed and keeps serving calls.
   */
  async dispose(): Promise<void> {
    if (this.injected) return;
    const lease = this.lease;
    this.loading = undefined;
    this.lease = undefined;
    (await lease?.catch(() => undefined))?.release();
  }
}
