import type { ModelLocation, RuntimeEncoder, RuntimeLoadOptions, TransformersRuntime } from "./runtime_types.js";
import { IDLE_SESSIONS, type Lease, SharedSessions, modelFilesKey } from "./shared_sessions.js";

/**
 * The feature-extraction encoders of `TransformersEmbeddings`, one per runtime and model (its ONNX file, config and
 * tokenizer files): shared by every copy of this module in the process (the ES module and CommonJS builds both
 * loaded).
 */
const ENCODERS = Symbol.for("two-stage-retriever.feature-extraction-encoders.v2");

function encoders(): SharedSessions<RuntimeEncoder> {
  const scope = globalThis as { [ENCODERS]?: SharedSessions<RuntimeEncoder> };
  scope[ENCODERS] ??= new SharedSessions(IDLE_SESSIONS, (encoder) => {
    void encoder.dispose().catch(() => undefined);
  });
  return scope[ENCODERS];
}

/** Encoders held (in use and idle): for tests and diagnostics. */
export function featureExtractionCounts(): { sessions: number; idle: number } {
  return { sessions: encoders().size, idle: encoders().idleCount };
}

/**
 * A share of the encoder (tokenizer and model) for `location`, loaded by `runtime`, or the one already loaded from
 * the same files by the same runtime (see `shared_sessions.ts`). Release it instead of disposing it.
 */
export function acquireFeatureExtraction(
  runtime: TransformersRuntime,
  location: ModelLocation,
  options: RuntimeLoadOptions,
): Promise<Lease<RuntimeEncoder>> {
  const files = [
    `onnx/${options.quantized ? "model_quantized" : "model"}.onnx`,
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
  ];
  const { id, cacheDir } = runtime.pretrained(location, options);
  const settings = { ...runtime.env, cacheDir: cacheDir ?? runtime.env.cacheDir };
  const key = modelFilesKey(`${runtime.name}:feature-extraction`, id, files, settings);
  return encoders().acquire(key, () => runtime.loadEncoder(location, options));
}
