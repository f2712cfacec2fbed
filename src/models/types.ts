// Shared vocabulary of the models room: types that profiles, config readers and loaders all name. A leaf file: it
// imports nothing, so every file can import it without a circle.

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
