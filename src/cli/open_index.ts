import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import { type Stage1Kind } from "../recall/build_stage1.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { readIndexManifest } from "../recall/index_folder/index_manifest.js";
import { CascadeCompressor } from "../rerank/cascade_compressor.js";
import { RemoteReranker } from "../rerank/remote/remote_reranker.js";
import { rerankerFromSettings } from "../retriever_settings.js";
import { TwoStageRetriever } from "../two_stage_retriever.js";
import { type ParsedArgs, optionalIntOption, stringOption } from "./args.js";
import { type ModelChoice, instantiate, modelChoice } from "./models.js";
import type { IndexManifest } from "./index_command.js";

/**
 * Loads an index folder written by `index` (or a FaissStore / FaissVectorStore folder) as a retriever, as its manifest
 * describes it: the stage-1 kind, the embedding model and profile, the reranker. Flags override the models.
 */
export async function openIndex(
  dir: string,
  args: ParsedArgs,
): Promise<{ retriever: TwoStageRetriever; choice: ModelChoice; loadMs: number }> {
  const manifest = readIndexManifest(path.resolve(dir)) as
    (Partial<IndexManifest> & { stage1?: Stage1Kind }) | undefined;
  if (!manifest && !fs.existsSync(path.join(dir, "faiss.index"))) {
    throw new InvalidArgumentError(
      `${dir} is not an index folder (no two-stage.json or faiss.index). Create one with: two-stage index <files> --out ${dir}`,
    );
  }
  const flagged = stringOption(args, "embedding-model");
  if (manifest?.stage1 !== "bm25" && !manifest?.embeddingModel && !flagged) {
    throw new InvalidArgumentError(
      `${dir} has no two-stage.json naming the embedding model it was built with (a folder written by FaissStore or ` +
        "by hand). Pass the same model with --embedding-model <id|dir>; querying with another model returns noise.",
    );
  }
  let choice = modelChoice(args, manifest ?? {});
  // The reranker the index recorded (a cascade included), unless reranker flags choose another.
  const saved = manifest?.retriever?.reranker;
  const flaggedReranker = ["reranker-model", "reranker-url", "reranker-api", "then", "keep", "rerank-budget-ms"].some(
    (f) => args.options.has(f),
  );
  const restored = saved && !flaggedReranker ? rerankerFromSettings(saved, { offline: choice.offline }) : undefined;
  if (restored instanceof CascadeCompressor) {
    const [first, ...rest] = restored.stages;
    choice = {
      ...choice,
      rerankerModel: first.reranker.model,
      thenModel: rest.at(-1)?.reranker.model,
      keeps: [first.keep],
      rerankBudgetMs: restored.rerankBudgetMs,
    };
  } else if (restored instanceof RemoteReranker) {
    choice = { ...choice, rerankerModel: restored.model, rerankerUrl: restored.url, rerankerApi: restored.api };
  } else if (restored) {
    choice = { ...choice, rerankerModel: restored.model };
  }
  const reranker = restored ?? instantiate(choice).reranker;
  const started = performance.now();
  const retriever = await TwoStageRetriever.load(dir, {
    embeddings: flagged ? new TransformersEmbeddings({ model: flagged, offline: choice.offline }) : undefined,
    compressor: reranker,
    stage1Kind: choice.stage1,
    recallK: optionalIntOption(args, "recall-k"),
    topK: optionalIntOption(args, "top-k"),
  });
  // Load the reranker now (the embeddings were loaded by the dimension check), so the stage timings of the query
  // measure the stages, not the loading.
  await reranker.compressDocuments([new Document({ pageContent: "warm-up" })], "warm-up");
  return {
    retriever,
    choice: { ...choice, stage1: retriever.stage1Kind ?? choice.stage1 },
    loadMs: performance.now() - started,
  };
}
