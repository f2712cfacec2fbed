import { TwoStageError } from "../errors.js";
import type { ModelLocation, RuntimeLoadOptions, TransformersRuntime } from "./runtime_types.js";
import { IDLE_SESSIONS, SharedSessions, modelFilesKey } from "./shared_sessions.js";
import type { CrossEncoderSequenceModel } from "./sequence_model.js";

/**
 * The sequence-classification models loaded on the caller's thread (`inferenceWorker: false`), one per runtime and
 * model file: shared by every copy of this module in the process (the ES module and CommonJS builds both loaded).
 */
const MODELS = Symbol.for("two-stage-retriever.caller-sequence-models.v1");

function models(): SharedSessions<CrossEncoderSequenceModel> {
  const scope = globalThis as { [MODELS]?: SharedSessions<CrossEncoderSequenceModel> };
  scope[MODELS] ??= new SharedSessions(IDLE_SESSIONS, (model) => {
    void Promise.resolve(model.dispose?.()).catch(() => undefined);
  });
  return scope[MODELS];
}

/** Sessions held on the caller's thread (in use and idle): for tests and diagnostics. */
export function callerSessionCounts(): { sessions: number; idle: number } {
  return { sessions: models().size, idle: models().idleCount };
}

/**
 * Loads a sequence-classification model on the caller's thread through `runtime`, or shares the one already loaded
 * from the same file (see `shared_sessions.ts`). `dispose()` gives this holder's share back; later calls on it are
 * refused, and other holders go on.
 */
export async function loadCallerSequenceModel(
  runtime: TransformersRuntime,
  location: ModelLocation,
  options: RuntimeLoadOptions,
): Promise<CrossEncoderSequenceModel> {
  const file = `onnx/${options.quantized ? "model_quantized" : "model"}.onnx`;
  const { id, cacheDir } = runtime.pretrained(location, options);
  const settings = { ...runtime.env, cacheDir: cacheDir ?? runtime.env.cacheDir };
  const key = modelFilesKey(`${runtime.name}:sequence-classification`, id, [file, "config.json"], settings);
  const lease = await models().acquire(key, () => runtime.loadSequenceClassifier(location, options));
  const shared = lease.value;
  let released = false;
  const model = async (inputs: Parameters<CrossEncoderSequenceModel>[0]) => {
    if (released) {
      throw new TwoStageError(
        "This cross-encoder model was disposed. Call the reranker again: it loads the model anew on its next call.",
      );
    }
    return shared(inputs);
  };
  return Object.assign(model, {
    config: shared.config,
    session: shared.session,
    dispose: async () => {
      if (released) return;
      released = true;
      lease.release();
    },
  });
}
