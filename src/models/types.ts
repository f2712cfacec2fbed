// Shared vocabulary of the models room: types that profiles, config readers and loaders all name. A leaf of this
// room: it imports only types of the rooms below, so every file can import it without a circle.
import type { ModelDownloadProgress } from "../inference/runtime_types.js";

export type { ModelDownloadProgress, RuntimeTensor, TensorFactory } from "../inference/runtime_types.js";

/** Token pooling of an embedding model: mean over attended tokens, or the first ([CLS] / `<s>`) token. */
export type EmbeddingPooling = "mean" | "cls";

/** How a model wants its texts embedded. */
export interface EmbeddingProfileFacts {
  pooling: EmbeddingPooling;
  /** Prepended to every query (`embedQuery`). */
  queryPrefix: string;
  /** Prepended to every document (`embedDocuments`). */
  documentPrefix: string;
  /** L2-normalise the pooled vector (inner product = cosine). */
  normalize: boolean;
  /** Longest input in tokens (special tokens included); undefined: the tokenizer's `model_max_length`. */
  maxLength?: number;
}

/** How logits become relevance scores. */
export type CrossEncoderActivation = "sigmoid" | "softmax" | "none";

/** The parts of a transformers.js tokenizer the reranker uses. */
export interface CrossEncoderTokenizer {
  encode(text: string, textPair?: string | null, options?: { add_special_tokens?: boolean }): number[];
  model_max_length?: number;
  pad_token_id?: number;
}

/** The special-token template of a pair: `prefix q middle d suffix` (BERT: `[CLS] q [SEP] d [SEP]`). */
export interface PairTemplate {
  prefix: number[];
  middle: number[];
  suffix: number[];
  pad: number;
}

/** Progress of a model download or of embedding a corpus (the `onProgress` option). */
export type ProgressEvent =
  | ({ phase: "download" } & ModelDownloadProgress)
  | {
      phase: "embed";
      /** Texts embedded so far in this `embedDocuments` call. */
      done: number;
      /** Texts in the call. */
      total: number;
    };
