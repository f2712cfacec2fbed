import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { type FeatureExtractionPipeline, type Tensor, pipeline } from "@xenova/transformers";

import { DEFAULT_EMBEDDING_MODEL } from "../defaults.js";
import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { positiveInteger } from "../validation.js";
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
   * Texts per model call in `embedDocuments`.
   * @default 32
   */
  batchSize?: number;
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
  /** A ready transformers.js feature-extraction pipeline: nothing is loaded (share one model). */
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
  readonly model: string = DEFAULT_EMBEDDING_MODEL;
  readonly quantized: boolean = true;
  readonly batchSize: number = 32;
  readonly pooling: "mean" | "cls" = "mean";
  readonly normalize: boolean = true;

  private readonly source: ModelSourceParams;
  private loading?: Promise<FeatureExtractionPipeline>;

  constructor(params: TransformersEmbeddingsParams = {}) {
    super(params);
    this.model = params.model ?? this.model;
    this.quantized = params.quantized ?? this.quantized;
    this.batchSize = params.batchSize ?? this.batchSize;
    this.pooling = params.pooling ?? this.pooling;
    this.normalize = params.normalize ?? this.normalize;
    this.source = { localModelRoot: params.localModelRoot, offline: params.offline };
    positiveInteger("batchSize", this.batchSize);
    if (this.pooling !== "mean" && this.pooling !== "cls") {
      throw new InvalidArgumentError(`Unknown pooling '${String(this.pooling)}'. Expected one of: mean, cls.`);
    }
    if (params.extractor) this.loading = Promise.resolve(params.extractor);
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
   * Embeds documents in batches of `batchSize`; one vector per text, in order. Local inference is called directly,
   * not through LangChain's retrying caller: a model that fails to load would otherwise be retried with backoff
   * for minutes.
   */
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    texts.forEach((text, index) => {
      if (typeof text !== "string") {
        throw new InvalidArgumentError(`texts[${index}] is ${typeof text}, not a string.`);
      }
    });
    const out: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      out.push(...(await this.embedBatch(texts.slice(start, start + this.batchSize))));
    }
    return out;
  }

  /** Embeds one query. */
  override async embedQuery(text: string): Promise<number[]> {
    if (typeof text !== "string") throw new InvalidArgumentError(`query is ${typeof text}, not a string.`);
    const [vector] = await this.embedBatch([text]);
    return vector;
  }

  /** Frees the model; the next call loads it again. */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    const extractor = await loading?.catch(() => undefined);
    await extractor?.dispose();
  }
}
