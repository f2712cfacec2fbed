import { ModelLoadError, TwoStageError } from "../errors.js";
import type { ModelLocation, RuntimeLoadOptions, TransformersRuntime } from "./runtime_types.js";
import type { CrossEncoderSequenceModel } from "./sequence_model.js";
import { type InferenceHost, inferenceHost } from "./inference_host.js";
import type { WireTensor } from "./inference_protocol.js";

/** What the inference worker loads, and with which runtime. */
export interface WorkerModelSpec {
  runtime: Pick<TransformersRuntime, "name" | "env" | "pretrained">;
  location: ModelLocation;
  options: RuntimeLoadOptions;
  /** How much lower the inference threads' CPU priority is on Linux (0 keeps the process's). */
  nice: number;
}

/**
 * Loads a sequence-classification model into the inference worker, with the caller's transformers.js runtime, and returns it as a
 * {@link CrossEncoderSequenceModel}: called with the same tensors, it answers with the same logits, computed off the
 * caller's thread. `dispose()` releases its handle on the session in the worker (shared by every load of the same
 * model file).
 */
export async function loadWorkerSequenceModel(
  spec: WorkerModelSpec,
  host?: InferenceHost,
): Promise<CrossEncoderSequenceModel> {
  if (spec.runtime.env.useCustomCache) {
    throw new ModelLoadError(
      "transformers.js env.useCustomCache is set, and the inference worker cannot reach a cache object that lives on " +
        "this thread. Pass inferenceWorker: false to load the model on this thread (through your cache), or unset it.",
    );
  }
  const worker = host ?? (await inferenceHost(spec.nice));
  const { handle, config, inputNames } = await worker.load(spec.runtime, spec.location, spec.options);
  let released = false;
  const model = async (inputs: Parameters<CrossEncoderSequenceModel>[0]) => {
    if (released) {
      throw new TwoStageError(
        "This cross-encoder model was disposed. Call the reranker again: it loads the model anew on its next call.",
      );
    }
    const wire: Record<string, WireTensor> = {};
    for (const [name, tensor] of Object.entries(inputs)) {
      wire[name] = { type: tensor.type, data: tensor.data as ArrayLike<number | bigint>, dims: tensor.dims };
    }
    try {
      const { data, dims } = await worker.run(handle, wire);
      return { logits: { data, dims } };
    } catch (error) {
      if (!worker.alive) throw error; // the worker's own failure says what to do
      const shape = inputs.input_ids?.dims.join(" × ") ?? "unknown";
      throw new TwoStageError(
        `The cross-encoder failed on a batch of shape ${shape}: ${(error as Error).message} ` +
          "Check that the model takes input_ids, attention_mask (and token_type_ids) of that shape.",
        { cause: error },
      );
    }
  };
  return Object.assign(model, {
    config: config as CrossEncoderSequenceModel["config"],
    session: { inputNames },
    dispose: async () => {
      if (released) return;
      released = true;
      worker.release(handle);
    },
  });
}
