// What both ways of running a cross-encoder (on the caller's thread, in the inference worker) hand back: a leaf
// file, so the loaders and the model that picks between them never import each other.

import type { Tensor as SequenceModelTensor } from "@xenova/transformers";

/** The fields of a transformers `config.json` that bound a model's input. */
export interface ModelConfigLimits {
  model_type?: string;
  max_position_embeddings?: number;
  pad_token_id?: number;
  type_vocab_size?: number;
}

/** The parts of a transformers.js sequence-classification model the reranker uses. */
export interface CrossEncoderSequenceModel {
  (inputs: Record<string, SequenceModelTensor>): Promise<{ logits: Pick<SequenceModelTensor, "data" | "dims"> }>;
  config?: { id2label?: Record<string, string>; num_labels?: number } & ModelConfigLimits;
  /** The ONNX Runtime session: its `inputNames` are the inputs the graph declares. */
  session?: { inputNames?: readonly string[] };
  dispose?: () => Promise<unknown> | undefined;
}
