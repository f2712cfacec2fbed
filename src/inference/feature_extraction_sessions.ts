import { type FeatureExtractionPipeline, env, pipeline } from "@xenova/transformers";

import { IDLE_SESSIONS, type Lease, SharedSessions, modelFilesKey } from "./shared_sessions.js";

/**
 * The feature-extraction pipelines of `TransformersEmbeddings`, one per model (its ONNX file, config and tokenizer
 * files): shared by every copy of this module in the process (the ES module and CommonJS builds both loaded).
 */
const PIPELINES = Symbol.for("two-stage-retriever.feature-extraction-pipelines.v1");

function pipelines(): SharedSessions<FeatureExtractionPipeline> {
  const scope = globalThis as { [PIPELINES]?: SharedSessions<FeatureExtractionPipeline> };
  scope[PIPELINES] ??= new SharedSessions(IDLE_SESSIONS, (extractor) => {
    void extractor.dispose().catch(() => undefined);
  });
  return scope[PIPELINES];
}

/** Pipelines held (in use and idle): for tests and diagnostics. */
export function featureExtractionCounts(): { sessions: number; idle: number } {
  return { sessions: pipelines().size, idle: pipelines().idleCount };
}

/**
 * A share of the feature-extraction pipeline for `id`: loaded with `pipeline("feature-extraction", id, options)`,
 * or the one already loaded from the same files (see `shared_sessions.ts`). Release it instead of disposing it.
 */
export function acquireFeatureExtraction(
  id: string,
  options: { quantized: boolean; local_files_only: boolean },
): Promise<Lease<FeatureExtractionPipeline>> {
  const files = [
    `onnx/${options.quantized ? "model_quantized" : "model"}.onnx`,
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
  ];
  const key = modelFilesKey("feature-extraction", id, files, env);
  return pipelines().acquire(
    key,
    () => pipeline("feature-extraction", id, options) as Promise<FeatureExtractionPipeline>,
  );
}
