import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { IndexError, InvalidArgumentError } from "./errors.js";
import type { RecallFilter } from "./recall/recall_source.js";
import {
  CascadeCompressor,
  type CascadeCompressorParams,
  type SavedCascadeStage,
} from "./rerank/cascade_compressor.js";
import { CrossEncoderCompressor, type CrossEncoderCompressorParams } from "./rerank/cross_encoder_compressor.js";
import { RemoteReranker, type SavedRemoteRerankerParams } from "./rerank/remote/remote_reranker.js";
import type { HybridSourceParams } from "./recall/hybrid_source.js";
import type { ModelSourceParams } from "./models/model_source.js";

/** The manifest field (in `two-stage.json`) that records how a retriever was built. */
export const RETRIEVER_FIELD = "retriever";

/** Stage 2 as a saved index records it. */
export type SavedReranker =
  | { kind: "cross-encoder"; params: CrossEncoderCompressorParams }
  | { kind: "cascade"; params: Omit<CascadeCompressorParams, "stages"> & { stages: SavedCascadeStage[] } }
  /** A {@link RemoteReranker}: its options without the API key (read from the environment again on load). */
  | { kind: "remote"; params: SavedRemoteRerankerParams }
  /** A compressor that cannot be saved (another class, or an injected model): `load` needs it passed again. */
  | { kind: "unsaved"; name: string };

/** What a saved index records about the retriever around its stage 1 (`two-stage.json` → `retriever`). */
export interface SavedRetrieverSettings {
  version: 1;
  recallK: number;
  topK: number;
  rerankTimeoutMs?: number;
  onRerankError: "throw" | "fallback";
  /** A metadata-equality filter as saved; `"function"` when the filter was a predicate (not saved). */
  filter?: Record<string, unknown> | "function";
  reranker: SavedReranker;
  /** A hybrid's fusion options and dense weight, as given to the factory. */
  fusion?: Omit<HybridSourceParams, "sources">;
  denseWeight?: number;
}

/** What {@link retrieverSettings} reads from a retriever. */
export interface RetrieverSettingsSource {
  recallK: number;
  topK: number;
  rerankTimeoutMs?: number;
  onRerankError: "throw" | "fallback";
  filter?: RecallFilter;
  compressor: BaseDocumentCompressor;
  fusion?: Omit<HybridSourceParams, "sources">;
  denseWeight?: number;
}

/** The saveable description of a compressor. */
export function savedReranker(compressor: BaseDocumentCompressor): SavedReranker {
  const saveable = compressor as Partial<
    Pick<CrossEncoderCompressor | CascadeCompressor | RemoteReranker, "savedParams">
  >;
  const params = typeof saveable.savedParams === "function" ? saveable.savedParams() : undefined;
  if (params && "stages" in params) return { kind: "cascade", params };
  if (params && "url" in params) return { kind: "remote", params };
  if (params) return { kind: "cross-encoder", params };
  return { kind: "unsaved", name: compressor.constructor?.name || "a compressor" };
}

/** The settings a saved index records, so `load` rebuilds the same retriever. */
export function retrieverSettings(source: RetrieverSettingsSource): SavedRetrieverSettings {
  const { filter } = source;
  return {
    version: 1,
    recallK: source.recallK,
    topK: source.topK,
    ...(source.rerankTimeoutMs !== undefined ? { rerankTimeoutMs: source.rerankTimeoutMs } : {}),
    onRerankError: source.onRerankError,
    ...(filter === undefined ? {} : { filter: typeof filter === "function" ? "function" : { ...filter } }),
    reranker: savedReranker(source.compressor),
    ...(source.fusion !== undefined ? { fusion: source.fusion } : {}),
    ...(source.denseWeight !== undefined ? { denseWeight: source.denseWeight } : {}),
  };
}

/**
 * Builds the compressor a saved index records; `source` says where this machine finds models (`localModelRoot`,
 * `offline`), which the index does not record.
 */
export function rerankerFromSettings(
  saved: SavedReranker,
  source: ModelSourceParams = {},
): CrossEncoderCompressor | CascadeCompressor | RemoteReranker | undefined {
  if (saved.kind === "cross-encoder") return new CrossEncoderCompressor({ ...saved.params, ...source });
  if (saved.kind === "remote") return new RemoteReranker(saved.params);
  if (saved.kind === "cascade") {
    return new CascadeCompressor({
      ...saved.params,
      stages: saved.params.stages.map((stage) => ({
        ...stage,
        reranker:
          "url" in stage.reranker
            ? new RemoteReranker(stage.reranker)
            : new CrossEncoderCompressor({ ...stage.reranker, ...source }),
      })),
    });
  }
  return undefined;
}

/** The retriever settings of a manifest, checked; undefined for folders saved without them. */
export function readRetrieverSettings(
  manifest: Record<string, unknown>,
  directory: string,
): SavedRetrieverSettings | undefined {
  const saved = manifest[RETRIEVER_FIELD] as Partial<SavedRetrieverSettings> | undefined;
  if (saved === undefined) return undefined;
  const reranker = saved?.reranker as Partial<SavedReranker> | undefined;
  const ok =
    typeof saved === "object" &&
    saved !== null &&
    saved.version === 1 &&
    Number.isInteger(saved.recallK) &&
    Number.isInteger(saved.topK) &&
    typeof reranker === "object" &&
    reranker !== null &&
    ["cross-encoder", "cascade", "remote", "unsaved"].includes(reranker.kind as string) &&
    rerankerShapeOk(reranker);
  if (!ok) {
    throw new IndexError(
      `${directory}/two-stage.json: the "${RETRIEVER_FIELD}" entry is malformed or from a newer version. ` +
        "Pass every setting to load (recallK, topK, compressor), or save the index again.",
    );
  }
  return saved as SavedRetrieverSettings;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The saved reranker's shape: options objects where the kind needs them (a null would mean "the default model"). */
function rerankerShapeOk(reranker: Partial<SavedReranker>): boolean {
  if (reranker.kind === "unsaved") return typeof (reranker as { name?: unknown }).name === "string";
  const params = (reranker as { params?: unknown }).params;
  if (!isObject(params)) return false;
  if (reranker.kind === "cross-encoder") return typeof params.model === "string";
  if (reranker.kind === "remote") return typeof params.url === "string";
  const stages = params.stages;
  return (
    Array.isArray(stages) &&
    stages.length > 0 &&
    stages.every(
      (stage) =>
        isObject(stage) &&
        isObject(stage.reranker) &&
        (typeof stage.reranker.model === "string" || typeof stage.reranker.url === "string"),
    )
  );
}

/** Options given to `load` that override what the index recorded. */
export interface RetrieverOverrides {
  recallK?: number;
  topK?: number;
  rerankTimeoutMs?: number;
  onRerankError?: "throw" | "fallback";
  filter?: RecallFilter;
  compressor?: BaseDocumentCompressor;
  fusion?: Omit<HybridSourceParams, "sources">;
  denseWeight?: number;
}

/**
 * The retriever options `load` uses: what the index recorded, overridden by what the caller passed. What could not
 * be saved (a predicate filter, a compressor of another class or with an injected model) must be passed again; a
 * missing one is an {@link InvalidArgumentError} naming it. Returns the compressor it built, which the retriever owns.
 */
export function restoreSettings(
  saved: SavedRetrieverSettings | undefined,
  given: RetrieverOverrides,
  directory: string,
): RetrieverOverrides & { built?: CrossEncoderCompressor | CascadeCompressor | RemoteReranker } {
  if (saved === undefined) return given;
  if (saved.filter === "function" && !("filter" in given)) {
    throw new InvalidArgumentError(
      `${directory} was saved by a retriever with a filter function, which cannot be saved. Pass it to load ` +
        "again ({ filter }), or pass filter: undefined to load without one.",
      { argument: "filter" },
    );
  }
  let built: CrossEncoderCompressor | CascadeCompressor | RemoteReranker | undefined;
  if (given.compressor === undefined) {
    if (saved.reranker.kind === "unsaved") {
      throw new InvalidArgumentError(
        `${directory} was saved by a retriever whose stage 2 was ${saved.reranker.name}, which cannot be saved ` +
          "(only CrossEncoderCompressor and CascadeCompressor with models loaded by name, and RemoteReranker, are). Pass it to load " +
          "again: TwoStageRetriever.load(dir, { compressor }).",
        { argument: "compressor" },
      );
    }
    built = rerankerFromSettings(saved.reranker);
  }
  return {
    recallK: given.recallK ?? saved.recallK,
    topK: given.topK ?? saved.topK,
    rerankTimeoutMs: "rerankTimeoutMs" in given ? given.rerankTimeoutMs : saved.rerankTimeoutMs,
    onRerankError: given.onRerankError ?? saved.onRerankError,
    filter: "filter" in given ? given.filter : (saved.filter as RecallFilter | undefined),
    compressor: given.compressor ?? built,
    fusion: given.fusion ?? saved.fusion,
    denseWeight: given.denseWeight ?? saved.denseWeight,
    built,
  };
}
