import { ModelLoadError } from "../errors.js";
import type { RuntimeTensor, TensorFactory } from "../models/types.js";
import type { PaddedBatch } from "./pair_batcher.js";

/** What decides the model inputs: the graph's declared inputs and the size of its token type vocabulary. */
export interface ModelInputSpec {
  /** The graph's declared inputs; undefined when unknown (an injected model without a session). */
  inputNames?: readonly string[];
  /** `type_vocab_size` of the config; 1 means every token is type 0. */
  typeVocabSize?: number;
  /** Builds a tensor with the Tensor class of the runtime that loaded the model. */
  tensor: TensorFactory;
}

const BUILT = ["input_ids", "attention_mask", "token_type_ids"] as const;

/**
 * The tensors for one padded batch, exactly as the graph declares them: `input_ids` and `attention_mask`, plus
 * `token_type_ids` only when the graph takes it (BERT yes; XLM-R, RoBERTa and DeBERTa-v3 exports no), as zeros
 * when the model's type vocabulary has a single entry (segment B would index past it). A model that does not expose
 * its inputs gets all three, as before.
 */
export function modelInputs(batch: PaddedBatch, spec: ModelInputSpec): Record<string, RuntimeTensor> {
  const shape = [batch.rows, batch.columns];
  const names = spec.inputNames ?? BUILT;
  const unknown = names.filter((name) => !(BUILT as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new ModelLoadError(
      `The cross-encoder's ONNX graph declares input(s) ${unknown.map((n) => `'${n}'`).join(", ")}; this package ` +
        `provides ${BUILT.join(", ")}. Use a sequence-classification export whose inputs are among those.`,
    );
  }
  const inputs: Record<string, RuntimeTensor> = {};
  for (const name of names) {
    if (name === "input_ids") inputs[name] = spec.tensor("int64", batch.inputIds, shape);
    else if (name === "attention_mask") inputs[name] = spec.tensor("int64", batch.attentionMask, shape);
    else {
      const types = spec.typeVocabSize === 1 ? new BigInt64Array(batch.tokenTypeIds.length) : batch.tokenTypeIds;
      inputs[name] = spec.tensor("int64", types, shape);
    }
  }
  return inputs;
}
