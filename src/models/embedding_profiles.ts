import { ModelLoadError } from "../errors.js";
import { type ModelSourceParams, localModelDirectory } from "./model_source.js";
import { readSentenceTransformersConfig } from "./sentence_transformers_config.js";
import type { EmbeddingProfileFacts } from "./types.js";

export type { EmbeddingPooling, EmbeddingProfileFacts } from "./types.js";

/** Embedding models with a built-in profile; any other hub id or local directory is accepted too. */
export type KnownEmbeddingId =
  | "Xenova/all-MiniLM-L6-v2"
  | "Xenova/all-MiniLM-L12-v2"
  | "Xenova/multi-qa-MiniLM-L6-cos-v1"
  | "Xenova/bge-small-en-v1.5"
  | "Xenova/bge-base-en-v1.5"
  | "Xenova/e5-small-v2"
  | "Xenova/e5-base-v2"
  | "Xenova/multilingual-e5-small"
  | "Xenova/gte-small"
  | "Xenova/gte-base"
  | "nomic-ai/nomic-embed-text-v1.5";

/** The profile a {@link TransformersEmbeddings} instance applies, and where each part came from. */
export interface EmbeddingProfile extends EmbeddingProfileFacts {
  /**
   * Where the facts came from: `profile:<id>` (the built-in table), `sentence-transformers:<dir>` (the model
   * folder's own files) or `default`; `+options` is appended when explicit options overrode any of them.
   */
  source: string;
}

/** One row of the built-in table: the facts, the model size, and the model card they were taken from. */
export interface KnownEmbeddingProfile extends EmbeddingProfileFacts {
  /** Parameter count, for the README table. */
  parameters: string;
  /** The model card (and passage) each fact comes from. */
  card: string;
}

/** The behaviour of a model nothing is known about: what this package always did. */
export const DEFAULT_EMBEDDING_PROFILE: EmbeddingProfileFacts = {
  pooling: "mean",
  queryPrefix: "",
  documentPrefix: "",
  normalize: true,
  maxLength: undefined,
};

const BGE_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";

/**
 * Pooling, prefixes and maximum length of the transformers.js exports of popular embedding models, as their model
 * cards state them. The Xenova exports ship no sentence-transformers files, so nothing else tells the runtime.
 */
export const EMBEDDING_PROFILES: Readonly<Record<KnownEmbeddingId, KnownEmbeddingProfile>> = {
  // sentence-transformers/all-MiniLM-L6-v2 card: mean_pooling in the Transformers usage; "By default, input text
  // longer than 256 word pieces is truncated."; no prefixes.
  "Xenova/all-MiniLM-L6-v2": {
    pooling: "mean",
    queryPrefix: "",
    documentPrefix: "",
    normalize: true,
    maxLength: 256,
    parameters: "22.7M",
    card: "sentence-transformers/all-MiniLM-L6-v2",
  },
  // sentence-transformers/all-MiniLM-L12-v2 card: same usage section as L6 (mean_pooling, F.normalize), 256 word
  // pieces; no prefixes.
  "Xenova/all-MiniLM-L12-v2": {
    pooling: "mean",
    queryPrefix: "",
    documentPrefix: "",
    normalize: true,
    maxLength: 256,
    parameters: "33.4M",
    card: "sentence-transformers/all-MiniLM-L12-v2",
  },
  // sentence-transformers/multi-qa-MiniLM-L6-cos-v1 card: "Mean Pooling - Take average of all tokens", normalised
  // embeddings (cos), "there is a limit of 512 word pieces"; no prefixes.
  "Xenova/multi-qa-MiniLM-L6-cos-v1": {
    pooling: "mean",
    queryPrefix: "",
    documentPrefix: "",
    normalize: true,
    maxLength: 512,
    parameters: "22.7M",
    card: "sentence-transformers/multi-qa-MiniLM-L6-cos-v1",
  },
  // BAAI/bge-small-en-v1.5 card (FlagEmbedding model list): query instruction for retrieval "Represent this sentence
  // for searching relevant passages: ", none for passages; Transformers usage pools the [CLS] token
  // (1_Pooling/config.json: pooling_mode_cls_token); 512 tokens.
  "Xenova/bge-small-en-v1.5": {
    pooling: "cls",
    queryPrefix: BGE_QUERY_INSTRUCTION,
    documentPrefix: "",
    normalize: true,
    maxLength: 512,
    parameters: "33.4M",
    card: "BAAI/bge-small-en-v1.5",
  },
  // BAAI/bge-base-en-v1.5 card: as bge-small-en-v1.5.
  "Xenova/bge-base-en-v1.5": {
    pooling: "cls",
    queryPrefix: BGE_QUERY_INSTRUCTION,
    documentPrefix: "",
    normalize: true,
    maxLength: 512,
    parameters: "109M",
    card: "BAAI/bge-base-en-v1.5",
  },
  // intfloat/e5-small-v2 card: average_pool over the last hidden states, F.normalize; FAQ "Do I need to add the
  // prefix "query: " and "passage: " to input texts? Yes"; "Long texts will be truncated to at most 512 tokens."
  "Xenova/e5-small-v2": {
    pooling: "mean",
    queryPrefix: "query: ",
    documentPrefix: "passage: ",
    normalize: true,
    maxLength: 512,
    parameters: "33.4M",
    card: "intfloat/e5-small-v2",
  },
  // intfloat/e5-base-v2 card: as e5-small-v2.
  "Xenova/e5-base-v2": {
    pooling: "mean",
    queryPrefix: "query: ",
    documentPrefix: "passage: ",
    normalize: true,
    maxLength: 512,
    parameters: "109M",
    card: "intfloat/e5-base-v2",
  },
  // intfloat/multilingual-e5-small card: average_pool; "Each input text should start with "query: " or "passage: ",
  // even for non-English texts."; 512 tokens.
  "Xenova/multilingual-e5-small": {
    pooling: "mean",
    queryPrefix: "query: ",
    documentPrefix: "passage: ",
    normalize: true,
    maxLength: 512,
    parameters: "118M",
    card: "intfloat/multilingual-e5-small",
  },
  // thenlper/gte-small card: average_pool in the usage code, no instruction; sequence length 512 (metrics table).
  "Xenova/gte-small": {
    pooling: "mean",
    queryPrefix: "",
    documentPrefix: "",
    normalize: true,
    maxLength: 512,
    parameters: "33.4M",
    card: "thenlper/gte-small",
  },
  // thenlper/gte-base card: as gte-small.
  "Xenova/gte-base": {
    pooling: "mean",
    queryPrefix: "",
    documentPrefix: "",
    normalize: true,
    maxLength: 512,
    parameters: "109M",
    card: "thenlper/gte-base",
  },
  // nomic-ai/nomic-embed-text-v1.5 card: "the text prompt must include a task instruction prefix": documents
  // "search_document: ", queries "search_query: "; mean_pooling + normalize at the full 768 dimensions (the card's
  // extra layer_norm belongs to Matryoshka truncation, which is not done here); 8192-token context.
  "nomic-ai/nomic-embed-text-v1.5": {
    pooling: "mean",
    queryPrefix: "search_query: ",
    documentPrefix: "search_document: ",
    normalize: true,
    maxLength: 8192,
    parameters: "137M",
    card: "nomic-ai/nomic-embed-text-v1.5",
  },
};

/**
 * The built-in profile of `model`: an exact known id, or a name whose last path segment is a known model's (a local
 * copy at `<root>/Xenova/bge-small-en-v1.5`, or the original `BAAI/bge-small-en-v1.5`), case-insensitively.
 */
export function knownEmbeddingProfile(
  model: string,
): { id: KnownEmbeddingId; profile: KnownEmbeddingProfile } | undefined {
  const name = lastSegment(model);
  for (const [id, profile] of Object.entries(EMBEDDING_PROFILES) as [KnownEmbeddingId, KnownEmbeddingProfile][]) {
    if (id.toLowerCase() === model.toLowerCase() || lastSegment(id) === name) return { id, profile };
  }
  return undefined;
}

function lastSegment(name: string): string {
  const parts = name.replace(/\\/g, "/").replace(/\/+$/, "").split("/");
  return parts[parts.length - 1].toLowerCase();
}

/**
 * The profile an embedding model is run with. Each fact comes from the first of: the explicit option; the local
 * model folder's sentence-transformers files; the built-in table ({@link EMBEDDING_PROFILES}); the defaults (mean
 * pooling, no prefixes, normalised, the tokenizer's maximum length).
 */
export function resolveEmbeddingProfile(
  model: string,
  explicit: Partial<EmbeddingProfileFacts>,
  source: ModelSourceParams = {},
): EmbeddingProfile {
  const dir = localModelDirectory(model, source);
  const files = dir ? readSentenceTransformersConfig(dir) : undefined;
  if (files?.unsupportedPooling && explicit.pooling === undefined) {
    throw new ModelLoadError(
      `${dir}: its sentence-transformers Pooling config selects ${files.unsupportedPooling}; this package pools with ` +
        "mean or cls only. Pass `pooling: 'mean'` or `pooling: 'cls'` explicitly if that approximation is acceptable.",
    );
  }
  const known = knownEmbeddingProfile(model);
  const base: EmbeddingProfileFacts = known
    ? {
        pooling: known.profile.pooling,
        queryPrefix: known.profile.queryPrefix,
        documentPrefix: known.profile.documentPrefix,
        normalize: known.profile.normalize,
        maxLength: known.profile.maxLength,
      }
    : { ...DEFAULT_EMBEDDING_PROFILE };
  const origin = files ? `sentence-transformers:${dir}` : known ? `profile:${known.id}` : "default";
  const overridden = (Object.keys(explicit) as (keyof EmbeddingProfileFacts)[]).some((k) => explicit[k] !== undefined);
  const pick = <K extends keyof EmbeddingProfileFacts>(key: K): EmbeddingProfileFacts[K] =>
    explicit[key] ?? files?.[key] ?? base[key];
  return {
    pooling: pick("pooling"),
    queryPrefix: pick("queryPrefix"),
    documentPrefix: pick("documentPrefix"),
    normalize: pick("normalize"),
    maxLength: pick("maxLength"),
    source: overridden ? `${origin}+options` : origin,
  };
}
