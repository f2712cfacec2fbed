import path from "node:path";

import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { UNRECORDED_EMBEDDING_MODEL } from "../defaults.js";
import { IndexError, InvalidArgumentError } from "../errors.js";
import type { EmbeddingProfileFacts } from "../models/embedding_profiles.js";
import { BM25_FILES, Bm25Index, type Bm25IndexParams } from "./bm25/bm25_index.js";
import { type Stage1Kind, type Stage1Parts, checkStage1Kind } from "./build_stage1.js";
import { FAISS_MARKERS, FaissVectorStore, type FaissVectorStoreParams } from "./faiss/faiss_vector_store.js";
import { MANIFEST_FILE, readIndexManifest, saveIndexFolder } from "./index_folder/index_manifest.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";

export type { Stage1Parts } from "./build_stage1.js";

/** What an index folder's manifest says about its stage 1 (beside each part's own entry). */
export interface Stage1Manifest {
  /** `dense`, `bm25` or `hybrid`; absent in manifest-less folders and in LangChain's FaissStore (then: dense). */
  stage1?: Stage1Kind;
  /** The embedding model the vectors were made with (a `TransformersEmbeddings` model id or folder). */
  embeddingModel?: string;
  /** How that model was run: pooling, prefixes, normalisation, maximum length. */
  embeddingProfile?: EmbeddingProfileFacts;
  /** Vector dimension. */
  dim?: number;
}

/** The kind of stage 1 the parts make. */
export function partsKind(parts: Stage1Parts): Stage1Kind {
  if (parts.store && parts.bm25) return "hybrid";
  if (parts.bm25) return "bm25";
  if (parts.store) return "dense";
  throw new InvalidArgumentError("Nothing to save: stage 1 has neither a FAISS store nor a BM25 index.");
}

/** What to record about the embeddings: the model and profile of a `TransformersEmbeddings`, else nothing. */
export function embeddingsManifest(embeddings: EmbeddingsInterface | undefined): Stage1Manifest {
  if (!(embeddings instanceof TransformersEmbeddings)) return {};
  const { pooling, queryPrefix, documentPrefix, normalize, maxLength } = embeddings.profile;
  return {
    embeddingModel: embeddings.model,
    embeddingProfile: { pooling, queryPrefix, documentPrefix, normalize, maxLength },
  };
}

/**
 * Saves the parts into one index folder through the one save pipeline (crash-safe, locked, checksummed), with the
 * manifest fields given plus `stage1` and the embedding model and profile: a hybrid's FAISS and BM25 parts go into
 * the same new version, so both change in the same atomic commit.
 */
export async function saveStage1(
  directory: string,
  parts: Stage1Parts,
  manifest: Record<string, unknown> = {},
): Promise<void> {
  const kind = partsKind(parts);
  await saveIndexFolder(directory, {
    kind: kind === "bm25" ? "BM25 index" : kind === "hybrid" ? "hybrid index" : "FAISS index",
    markers: [FAISS_MARKERS, Object.values(BM25_FILES)],
    parts: [parts.store?.indexPart(), parts.bm25?.indexPart()].filter((part) => part !== undefined),
    manifest: {
      ...manifest,
      ...embeddingsManifest(parts.store?.embeddings),
      stage1: kind,
      ...(parts.store?.dim !== undefined ? { dim: parts.store.dim } : {}),
    },
    exposed: parts.store ? FAISS_MARKERS : [],
  });
}

/** Options of {@link loadStage1}. */
export interface LoadStage1Params extends FaissVectorStoreParams {
  /** Embeddings to query the dense part with; by default the model and profile the manifest records. */
  embeddings?: EmbeddingsInterface;
  bm25?: Bm25IndexParams;
}

/** What {@link loadStage1} loaded. */
export interface LoadedStage1 {
  kind: Stage1Kind;
  parts: Stage1Parts;
  manifest: Stage1Manifest & Record<string, unknown>;
  /** Embeddings created here from the manifest (the caller owns and disposes them). */
  createdEmbeddings?: TransformersEmbeddings;
}

/**
 * Loads the stage 1 an index folder holds, as its manifest describes it: the kind, and for a dense part the
 * embedding model and profile it was built with (used unless `embeddings` are given). Embeddings whose dimension
 * differs from the index are refused here, at load, not at the first query.
 */
export async function loadStage1(directory: string, params: LoadStage1Params = {}): Promise<LoadedStage1> {
  const manifest = (readIndexManifest(path.resolve(directory)) ?? {}) as Stage1Manifest & Record<string, unknown>;
  const kind = manifest.stage1 === undefined ? "dense" : checkStage1Kind(manifest.stage1, `${MANIFEST_FILE} stage1`);
  const parts: Stage1Parts = {};
  let createdEmbeddings: TransformersEmbeddings | undefined;
  if (kind !== "dense") parts.bm25 = await Bm25Index.load(directory, params.bm25);
  if (kind !== "bm25") {
    const embeddings =
      params.embeddings ??
      (createdEmbeddings = new TransformersEmbeddings({
        model: manifest.embeddingModel ?? UNRECORDED_EMBEDDING_MODEL,
        ...manifest.embeddingProfile,
      }));
    parts.store = await FaissVectorStore.load(directory, embeddings, params);
    const dim = parts.store.dim;
    if (dim !== undefined) {
      const probe = await embeddings.embedQuery("dimension check");
      if (probe.length !== dim) {
        await createdEmbeddings?.dispose();
        throw new InvalidArgumentError(
          `The index in ${directory} holds vectors of dimension ${dim}` +
            `${manifest.embeddingModel ? ` (built with ${manifest.embeddingModel})` : ""}, but these embeddings give ` +
            `${probe.length}. Load it with the embedding model it was built with.`,
          { argument: "embeddings" },
        );
      }
    }
  }
  if (!parts.store && !parts.bm25) throw new IndexError(`${directory} holds no stage 1.`);
  return { kind, parts, manifest, createdEmbeddings };
}
