// The vocabulary of the transformers.js runtime adapter (src/models/transformers_runtime.ts): what the inference room
// (the worker's host, the shared sessions) and the models room both name. Types only; a leaf of this room.
import type { Tensor } from "@xenova/transformers";

import type { CrossEncoderSequenceModel } from "./sequence_model.js";

/** A transformers.js runtime: `@xenova/transformers` 2.17 (the dependency) or `@huggingface/transformers` 3 / 4. */
export type TransformersRuntimeName = "@xenova/transformers" | "@huggingface/transformers";

/**
 * A tensor as transformers.js builds and returns it, typed as `@xenova/transformers`' (the dependency, so the
 * published types need nothing optional); `@huggingface/transformers`' Tensor has the same fields.
 */
export type RuntimeTensor = Tensor;

/** Builds a tensor with the runtime's own Tensor class (its model checks inputs against it). */
export type TensorFactory = (
  type: "int64" | "float32",
  data: BigInt64Array | Float32Array,
  dims: number[],
) => RuntimeTensor;

/** One model-file download event, as the transformers.js runtime reports it (`progress_callback`). */
export interface ModelDownloadProgress {
  /** `initiate`, `download`, `progress`, `done` (per file) and `ready` (the model). */
  status: string;
  /** The model id being loaded. */
  name?: string;
  /** The file within the model (e.g. `onnx/model_quantized.onnx`). */
  file?: string;
  /** Percent of `file` downloaded (with `status: "progress"`). */
  progress?: number;
  /** Bytes of `file` downloaded so far and in all (with `status: "progress"`). */
  loaded?: number;
  total?: number;
}

/** The `env` settings of a runtime that this package reads or hands to the inference worker. */
export interface RuntimeSettings {
  localModelPath: string;
  allowLocalModels: boolean;
  allowRemoteModels: boolean;
  remoteHost: string;
  remotePathTemplate: string;
  cacheDir: string | null;
  useFS: boolean;
  useFSCache: boolean;
  useCustomCache: boolean;
}

/** `from_pretrained(id, options)` for one load; `cacheDir` is the file cache it reads (and, from the hub, writes). */
export interface PretrainedArguments {
  id: string;
  options: Record<string, unknown>;
  cacheDir?: string;
}

/** Where a model loads from: a hub id, or a local directory (`dir`, absolute). */
export interface ModelLocation {
  id: string;
  dir?: string;
}

/** Which file to load and where from. */
export interface RuntimeLoadOptions {
  /** Load `onnx/model_quantized.onnx` (int8) instead of `onnx/model.onnx`. */
  quantized: boolean;
  /** Never contact the hub. */
  localFilesOnly: boolean;
  /** Where downloaded files are cached (`<cacheDir>/<org>/<name>/...`). */
  cacheDir?: string;
  /** Called with each download progress event. */
  onProgress?: (event: ModelDownloadProgress) => void;
}

/** A tokenizer, with the 2.17 call shapes whichever runtime loaded it. */
export interface RuntimeTokenizer {
  encode(text: string, textPair?: string | null, options?: { add_special_tokens?: boolean }): number[];
  model_max_length?: number;
  pad_token_id?: number;
  /** Batch tokenization: `input_ids` and `attention_mask` as int64 tensors of shape [rows, columns]. */
  batch(
    texts: string[],
    options: { padding: boolean; truncation: boolean; max_length?: number },
  ): { input_ids: RuntimeTensor & { data: BigInt64Array }; attention_mask: RuntimeTensor & { data: BigInt64Array } };
}

/** A loaded encoder (feature extraction): its tokenizer and the model returning `last_hidden_state`. */
export interface RuntimeEncoder {
  tokenizer: RuntimeTokenizer;
  model: ((inputs: Record<string, unknown>) => Promise<Record<string, RuntimeTensor>>) & {
    config?: { max_position_embeddings?: number };
  };
  dispose(): Promise<void>;
}

/** A transformers.js runtime behind the one interface the package uses. */
export interface TransformersRuntime {
  readonly name: TransformersRuntimeName;
  /** The installed version of the runtime package. */
  readonly version: string;
  /** The version of onnxruntime-node the runtime runs on. */
  readonly onnxRuntimeVersion?: string;
  /** The runtime's `env` (global settings; shared with the application's own imports of the same runtime). */
  readonly env: RuntimeSettings;
  /** How the runtime was chosen, for `doctor` and error messages. */
  readonly chosenBy: string;
  tensor: TensorFactory;
  /**
   * What `from_pretrained` takes for a location in this runtime: the id and the options (plain data: they are also
   * posted to the inference worker). A local directory loads as its name from its parent folder, given as the file
   * cache (`cache_dir`): transformers.js joins ids onto `env.localModelPath` without normalising, and a relative path
   * through a `models/` folder that does not exist resolves nowhere.
   */
  pretrained(location: ModelLocation, options: RuntimeLoadOptions): PretrainedArguments;
  loadTokenizer(location: ModelLocation, options: RuntimeLoadOptions): Promise<RuntimeTokenizer>;
  loadSequenceClassifier(location: ModelLocation, options: RuntimeLoadOptions): Promise<CrossEncoderSequenceModel>;
  loadEncoder(location: ModelLocation, options: RuntimeLoadOptions): Promise<RuntimeEncoder>;
  /** A ready feature-extraction pipeline of this runtime (injected by the caller) as an encoder; never disposed. */
  encoderFromPipeline(pipeline: { tokenizer: unknown; model: unknown }): RuntimeEncoder;
}
