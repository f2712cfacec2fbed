// `two-stage eval --index <dir>`: stage 1 read from an index folder built by `two-stage index` over the dataset's
// corpus, instead of embedding the corpus again. The folder must hold exactly the collection's documents.
import path from "node:path";

import type { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

import { InvalidArgumentError } from "../errors.js";
import { type Stage1Kind, stage1Source } from "../recall/build_stage1.js";
import type { RecallSource } from "../recall/recall_source.js";
import { readIndexManifest } from "../recall/index_folder/index_manifest.js";
import { loadStage1 } from "../recall/stage1_folder.js";
import type { SavedRetrieverSettings } from "../retriever_settings.js";
import type { ModelChoice } from "./models.js";

/** What an index folder's manifest says about the models and stage 1, as `eval` chooses models from it. */
export function indexModelChoice(dir: string): Partial<ModelChoice> & { stage1: Stage1Kind } {
  const manifest = readIndexManifest(path.resolve(dir)) as
    (Partial<ModelChoice> & { stage1?: Stage1Kind; retriever?: SavedRetrieverSettings }) | undefined;
  if (!manifest) {
    throw new InvalidArgumentError(
      `--index ${dir} is not an index folder written by two-stage index (no two-stage.json). Build one over the ` +
        `dataset's corpus: two-stage index <dataset>/corpus.jsonl --out ${dir}.`,
      { argument: "--index" },
    );
  }
  return {
    ...(manifest.embeddingModel ? { embeddingModel: manifest.embeddingModel } : {}),
    ...(manifest.lexical ? { lexical: true } : {}),
    ...(manifest.retriever?.denseWeight !== undefined ? { denseWeight: manifest.retriever.denseWeight } : {}),
    stage1: manifest.stage1 ?? "dense",
  };
}

/**
 * Loads the stage 1 of an index folder for `eval`, checking that it holds the collection: every document of the
 * corpus under its dataset id (`two-stage index corpus.jsonl` gives each record its `_id`) and nothing else.
 */
export async function loadEvalIndex(
  dir: string,
  docs: readonly Document[],
  embeddings: EmbeddingsInterface,
  denseWeight: number | undefined,
): Promise<{ source: RecallSource; details: Record<string, unknown>; dispose(): void }> {
  const loaded = await loadStage1(dir, { embeddings });
  const held = (loaded.parts.store ?? loaded.parts.bm25)!.ids();
  const heldSet = new Set(held);
  const wanted = new Set(docs.map((doc) => String(doc.metadata.docId)));
  const missing = [...wanted].filter((id) => !heldSet.has(id));
  const extra = held.filter((id) => !wanted.has(id));
  if (missing.length > 0 || extra.length > 0) {
    loaded.parts.store?.dispose();
    const sample = (ids: string[]) => ids.slice(0, 3).join(", ") + (ids.length > 3 ? ", …" : "");
    throw new InvalidArgumentError(
      `--index ${dir} does not hold this dataset's corpus: ${missing.length} of its ${wanted.size} documents are ` +
        `missing${missing.length ? ` (${sample(missing)})` : ""} and ${extra.length} other` +
        `${extra.length === 1 ? " is" : "s are"} in it` +
        `${extra.length ? ` (${sample(extra)})` : ""}. Metrics over another collection would be wrong; build the ` +
        `index from the dataset: two-stage index <dataset>/corpus.jsonl --out ${dir} --rebuild.`,
      { argument: "--index" },
    );
  }
  return {
    source: stage1Source(loaded.parts, { denseWeight }),
    details: { index: dir },
    dispose: () => loaded.parts.store?.dispose(),
  };
}
