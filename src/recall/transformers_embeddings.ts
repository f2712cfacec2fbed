import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { type FeatureExtractionPipeline, type Tensor, pipeline } from "@xenova/transformers";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { describeValue, positiveInteger } from "../validation.js";
import { type ModelSourceParams, resolveModelSource } from "../models/model_source.js";

/** Embedding models known to work; any other hub id or local directory is accepted too. */
export type KnownEmbeddingId =
  | "Xenova/all-MiniLM-L6-v2"
  | "Xenova/all-MiniLM-L12-v2"
  | "Xenova/bge-small-en-v1.5"
  | "Xenova/multi-qa-MiniLM-L6-cos-v1";

/** Options of {@link TransformersEmbeddings}. */
export interface TransformersEmbeddingsParams extends EmbeddingsParams, ModelSourceParams {
  /**
   * Hub id or local model directory.
   * @default "Xenova/all-MiniLM-L6-v2"
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
   * Token pooling: `mean` over the attention mask (sentence-transformers MiniLM) or `cls`.
   * @default "mean"
   */
  pooling?: "mean" | "cls";
  /**
   * L2-normalise embeddings, so inner product is cosine similarity.
   * @default true
   */
  normalize?: boolean;
  /**
   * A ready transformers.js feature-extraction pipeline: nothing is loaded (share one model). It stays the
   * caller's: `dispose()` does not free it, and it keeps serving later calls.
   */
  extractor?: FeatureExtractionPipeline;
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
 * LangChain `Embeddings` computed locally with transformers.js (the same ONNX Runtime as the reranker), offline
 * from a local directory when needed. The model loads once, on first use; `dispose()` frees it.
 *
 * @example
 * ```ts
 * const embeddings = new TransformersEmbeddings(); // Xenova/all-MiniLM-L6-v2, mean pooling, normalised
 * const [vector] = await embeddings.embedDocuments(["FAISS searches vectors"]);
 * vector.length; // 384
 * ```
 */
export class TransformersEmbeddings extends Embeddings {
  readonly model: string = "Xenova/all-MiniLM-L6-v2";
  readonly quantized: boolean = true;
  readonly batchSize: number = 32;
  readonly maxBatchTokens: number = 4096;
  readonly pooling: "mean" | "cls" = "mean";
  readonly normalize: boolean = true;

  private readonly source: ModelSourceParams;
  private loading?: Promise<FeatureExtractionPipeline>;
  private readonly injected?: FeatureExtractionPipeline;

  constructor(params: TransformersEmbeddingsParams = {}) {
    super(params);
    this.model = params.model ?? this.model;
    this.quantized = params.quantized ?? this.quantized;
    this.batchSize = params.batchSize ?? this.batchSize;
    this.maxBatchTokens = params.maxBatchTokens ?? this.maxBatchTokens;
    this.pooling = params.pooling ?? this.pooling;
    this.normalize = params.normalize ?? this.normalize;
    this.source = { localModelRoot: params.localModelRoot, offline: params.offline };
    positiveInteger("batchSize", this.batchSize);
    positiveInteger("maxBatchTokens", this.maxBatchTokens);
    if (this.pooling !== "mean" && this.pooling !== "cls") {
      throw new InvalidArgumentError(`Unknown pooling '${String(this.pooling)}'. Expected one of: mean, cls.`);
    }
    if (params.extractor) {
      this.injected = params.extractor;
      this.loading = Promise.resolve(params.extractor);
    }
  }

  private load(): Promise<FeatureExtractionPipeline> {
    if (!this.loading) {
      const location = resolveModelSource(this.model, this.quantized, this.source);
      this.loading = (
        pipeline("feature-extraction", location.id, {
          quantized: this.quantized,
          local_files_only: location.localFilesOnly,
        }) as Promise<FeatureExtractionPipeline>
      ).catch((error: unknown) => {
        this.loading = undefined;
        throw new ModelLoadError(
          `Could not load embedding model '${this.model}'${location.dir ? ` from ${location.dir}` : " from the hub"}: ` +
            `${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      });
    }
    return this.loading;
  }

  private async embedBatch(texts: string[]): Promise<number[][]> {
    const extractor = await this.load();
    // Tokenizer and model are called directly and pooled here: transformers.js's own pooling walks the
    // [batch, sequence, hidden] tensor element by element and costs more than the model for small encoders.
    const inputs = extractor.tokenizer(texts, { padding: true, truncation: true });
    const outputs = (await extractor.model(inputs)) as Record<string, Tensor>;
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
   * Embeds documents; one vector per text, in order. Texts are grouped by token length into batches of at most
   * `batchSize` texts and `maxBatchTokens` padded tokens. Local inference is called directly, not through
   * LangChain's retrying caller: a model that fails to load would otherwise be retried with backoff for minutes.
   */
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    if (!Array.isArray(texts)) {
      throw new InvalidArgumentError(`texts must be an array of strings; got ${describeValue(texts)}.`);
    }
    texts.forEach((text, index) => {
      if (typeof text !== "string") {
        throw new InvalidArgumentError(`texts[${index}] is ${describeValue(text)}, not a string.`);
      }
    });
    if (texts.length === 0) return [];
    const extractor = await this.load();
    const out = new Array<number[]>(texts.length);
    for (const batch of this.plan(extractor, texts)) {
      const vectors = await this.embedBatch(batch.map((i) => texts[i]));
      batch.forEach((textIndex, row) => (out[textIndex] = vectors[row]));
    }
    return out;
  }

  /**
   * Groups text indices into batches, shortest first: at most `batchSize` rows and `maxBatchTokens` padded tokens
   * (a single text longer than the budget gets a batch of its own). Token counts are read from a bounded head of
   * each text (the model truncates there anyway).
   */
  private plan(extractor: FeatureExtractionPipeline, texts: string[]): number[][] {
    const tokenizer = extractor.tokenizer as unknown as {
      model_max_length?: number;
      encode(text: string, pair: null, options: { add_special_tokens: boolean }): number[];
    };
    const maxPositions = (extractor.model as unknown as { config?: { max_position_embeddings?: number } }).config
      ?.max_position_embeddings;
    const maxLength = Math.min(tokenizer.model_max_length ?? 512, maxPositions ?? 512, 8192);
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
    return batches;
  }

  /** Embeds one query. */
  override async embedQuery(text: string): Promise<number[]> {
    if (typeof text !== "string") throw new InvalidArgumentError(`query is ${describeValue(text)}, not a string.`);
    const [vector] = await this.embedBatch([text]);
    return vector;
  }

  /**
   * Frees the model this instance loaded; the next call loads the same configured model again. An injected
   * `extractor` is the caller's: it is not freed and keeps serving calls.
   */
  async dispose(): Promise<void> {
    if (this.injected) return;
    const loading = this.loading;
    this.loading = undefined;
    const extractor = await loading?.catch(() => undefined);
    await extractor?.dispose();
  }
}
