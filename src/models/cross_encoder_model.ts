import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { positionLimit } from "./model_config.js";
import { type ModelSourceParams, resolveModelSource, runtimeLoadOptions } from "./model_source.js";
import { type TransformersRuntime, transformersRuntime } from "./transformers_runtime.js";
import { loadCallerSequenceModel } from "../inference/caller_sequence_model.js";
import { loadWorkerSequenceModel } from "../inference/worker_sequence_model.js";
import type { CrossEncoderSequenceModel } from "../inference/sequence_model.js";
import type { CrossEncoderActivation, CrossEncoderTokenizer, PairTemplate, TensorFactory } from "./types.js";

export type { CrossEncoderSequenceModel } from "../inference/sequence_model.js";
export type { CrossEncoderActivation, CrossEncoderTokenizer } from "./types.js";

/** A loaded cross-encoder: tokenizer, model and what was derived from them. */
export interface LoadedCrossEncoder {
  tokenizer: CrossEncoderTokenizer;
  model: CrossEncoderSequenceModel;
  template: PairTemplate;
  /** Size of the classification head. */
  numLabels: number;
  /** The longest input the model accepts (tokenizer `model_max_length`, capped by position embeddings). */
  maxLength: number;
  /** The graph's declared inputs (undefined when the model does not expose its session). */
  inputNames?: readonly string[];
  /** Rows of the token type embedding (`type_vocab_size`); 1 means every token is type 0 (XLM-R, RoBERTa). */
  typeVocabSize?: number;
  /** Which model file was loaded (path, size, modification time), when it was loaded from a local folder. */
  fingerprint?: string;
  /** Builds the model's input tensors (the runtime's own Tensor class). */
  tensor: TensorFactory;
  /** The transformers.js runtime that loaded the model (undefined for an injected one). */
  runtime?: string;
}

/** Where `part` first occurs in `ids` at or after `from`; -1 when it does not. */
function indexOfRun(ids: number[], part: number[], from = 0): number {
  for (let i = from; i + part.length <= ids.length; i++) {
    if (part.every((id, j) => ids[i + j] === id)) return i;
  }
  return -1;
}

/**
 * Reads the pair template (`[CLS] q [SEP] d [SEP]` for BERT) off the tokenizer: the special tokens it puts around
 * and between two one-word texts. (Not two empty texts: `@huggingface/transformers` treats an empty second text as
 * none.)
 */
export function pairTemplate(tokenizer: CrossEncoderTokenizer): PairTemplate {
  const single = tokenizer.encode("", null, { add_special_tokens: true });
  const a = tokenizer.encode("a", null, { add_special_tokens: false });
  const b = tokenizer.encode("b", null, { add_special_tokens: false });
  const pair = tokenizer.encode("a", "b", { add_special_tokens: true });
  const at = a.length > 0 ? indexOfRun(pair, a) : -1;
  const bt = at >= 0 && b.length > 0 ? indexOfRun(pair, b, at + a.length) : -1;
  if (single.length < 2 || at < 1 || bt < 0 || bt + b.length >= pair.length) {
    throw new ModelLoadError(
      `The tokenizer adds [${single.join(", ")}] around a text and gives [${pair.join(", ")}] for the pair ("a", ` +
        `"b"); a cross-encoder needs a pair template like [CLS] query [SEP] document [SEP]. Use a tokenizer.json ` +
        "with a TemplateProcessing post-processor (BERT, MiniLM, ELECTRA and RoBERTa rerankers have one).",
    );
  }
  return {
    prefix: pair.slice(0, at),
    middle: pair.slice(at + a.length, bt),
    suffix: pair.slice(bt + b.length),
    pad: tokenizer.pad_token_id ?? 0,
  };
}

/** Head size from a model config: `id2label` entries, else `num_labels`, else 1. */
export function headSize(model: CrossEncoderSequenceModel): number {
  const id2label = model.config?.id2label;
  if (id2label && Object.keys(id2label).length > 0) return Object.keys(id2label).length;
  return model.config?.num_labels ?? 1;
}

/** Checks an explicit activation against the head, or picks the default: sigmoid for 1 logit, softmax for 2. */
export function resolveActivation(
  requested: CrossEncoderActivation | undefined,
  numLabels: number,
  model: string,
): CrossEncoderActivation {
  if (numLabels > 2) {
    throw new InvalidArgumentError(
      `Model '${model}' has ${numLabels} labels; a relevance cross-encoder has 1 (a logit) or 2 (not relevant / relevant). ` +
        "Use a reranking model such as Xenova/ms-marco-MiniLM-L-6-v2.",
    );
  }
  if (requested === undefined) return numLabels === 1 ? "sigmoid" : "softmax";
  if (requested === "softmax" && numLabels === 1) {
    throw new InvalidArgumentError(
      `activation 'softmax' on model '${model}', which has a single logit: softmax over one value is always 1.0, so every ` +
        "document would score the same. Use 'sigmoid' (the default for 1-logit heads) or 'none'.",
    );
  }
  if (requested === "sigmoid" && numLabels === 2) {
    throw new InvalidArgumentError(
      `activation 'sigmoid' on model '${model}', which has 2 labels. Use 'softmax' (probability of label 1, the default) ` +
        "or 'none'.",
    );
  }
  return requested;
}

/**
 * Turns a row of logits into a relevance score: sigmoid of the logit (1 label), softmax probability of label 1
 * (2 labels), or raw: the logit (1 label) or log-odds `l1 - l0` (2 labels).
 */
export function activate(
  logits: ArrayLike<number>,
  offset: number,
  numLabels: number,
  activation: CrossEncoderActivation,
): number {
  const raw = numLabels === 1 ? logits[offset] : logits[offset + 1] - logits[offset];
  if (activation === "none") return raw;
  // sigmoid(l1 - l0) equals softmax(l0, l1)[1]; computed stably for large magnitudes.
  return raw >= 0 ? 1 / (1 + Math.exp(-raw)) : Math.exp(raw) / (1 + Math.exp(raw));
}

/** Where a loaded cross-encoder's model runs. */
export interface InferenceThreadOptions {
  /** Run the model in a worker thread (the caller's event loop is never blocked by a batch). */
  worker: boolean;
  /** With `worker`, how much to lower the inference threads' CPU priority on Linux. */
  nice: number;
}

/**
 * Loads tokenizer and model through transformers.js and derives the template, head size and maximum length. The
 * tokenizer always lives on the caller's thread; the model in a worker thread when `thread.worker`.
 */
export async function loadCrossEncoder(
  model: string,
  quantized: boolean,
  source: ModelSourceParams,
  thread: InferenceThreadOptions,
): Promise<LoadedCrossEncoder> {
  const runtime = await transformersRuntime(source.transformersRuntime);
  const location = resolveModelSource(model, quantized, source, runtime.env);
  const options = runtimeLoadOptions(location, quantized, source);
  const tokenizing = runtime.loadTokenizer(location, options);
  // Either way, one session per model file, shared by every reranker that loads it (see shared_sessions.ts).
  const modelLoading = thread.worker
    ? loadWorkerSequenceModel({ runtime, location, options, nice: thread.nice })
    : loadCallerSequenceModel(runtime, location, options);
  let tokenizer: CrossEncoderTokenizer;
  let loaded: CrossEncoderSequenceModel;
  try {
    [tokenizer, loaded] = await Promise.all([tokenizing, modelLoading]);
  } catch (error) {
    // One of the two failed: a worker that did start must not outlive the failed load.
    void modelLoading.then((started) => started.dispose?.()).catch(() => undefined);
    throw new ModelLoadError(
      `Could not load cross-encoder '${model}'${location.dir ? ` from ${location.dir}` : " from the hub"}: ` +
        `${error instanceof Error ? error.message : String(error)}` +
        (location.dir ? "" : " Without hub access, pass a local model directory (or localModelRoot) instead."),
      { cause: error },
    );
  }
  return {
    ...fromParts(tokenizer, loaded, runtime),
    fingerprint: location.dir ? fileFingerprint(location.dir, quantized) : undefined,
  };
}

function fileFingerprint(dir: string, quantized: boolean): string | undefined {
  const file = path.join(dir, "onnx", quantized ? "model_quantized.onnx" : "model.onnx");
  try {
    const stat = fs.statSync(file);
    return `${file}:${stat.size}:${Math.round(stat.mtimeMs)}`;
  } catch {
    return undefined;
  }
}

/**
 * Derives what the reranker needs from a ready tokenizer and model (loaded here or injected by the caller);
 * `runtime` is the one that loaded (or, injected, built) the model: its Tensor class builds the inputs.
 */
export function fromParts(
  tokenizer: CrossEncoderTokenizer,
  model: CrossEncoderSequenceModel,
  runtime: Pick<TransformersRuntime, "tensor" | "name">,
): LoadedCrossEncoder {
  const positions = positionLimit(model.config) ?? 512;
  const declared = tokenizer.model_max_length;
  const maxLength = Math.min(
    positions,
    declared !== undefined && declared > 0 && declared < 1e6 ? declared : positions,
  );
  const inputNames = model.session?.inputNames;
  return {
    tokenizer,
    model,
    template: pairTemplate(tokenizer),
    numLabels: headSize(model),
    maxLength,
    inputNames: Array.isArray(inputNames) ? [...inputNames] : undefined,
    typeVocabSize: model.config?.type_vocab_size,
    tensor: runtime.tensor,
    runtime: runtime.name,
  };
}
