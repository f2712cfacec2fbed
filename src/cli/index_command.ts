import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import { type Stage1Kind } from "../recall/build_stage1.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { checkSaveTarget } from "../recall/index_folder/atomic_directory.js";
import { LOCK_FILE, holdFolder } from "../recall/index_folder/folder_lock.js";
import { MANIFEST_FILE, readIndexManifest } from "../recall/index_folder/index_manifest.js";
import { type Stage1Parts, loadStage1, partsKind, saveStage1 } from "../recall/stage1_folder.js";
import { DEFAULT_RECALL_K, DEFAULT_TOP_K } from "../defaults.js";
import { RETRIEVER_FIELD, type SavedRetrieverSettings, retrieverSettings } from "../retriever_settings.js";
import { type ParsedArgs, intOption, nonNegativeIntOption, stringOption } from "./args.js";
import { describeSkippedInputs, readInputs } from "./input_documents.js";
import { type ModelChoice, describeModels, modelChoice, prepareModels } from "./models.js";
import { addToStage1 } from "../recall/build_stage1.js";
import { buildCliStage1, cliIds } from "./cli_stage1.js";
import { announceModels, print } from "./output.js";
import { Progress } from "./progress.js";

/** What `index` records beside the vectors, so `query` uses the same embedding model. */
export interface IndexManifest {
  version: 1;
  /** Absent for a BM25 stage 1. */
  embeddingModel?: string;
  rerankerModel: string;
  lexical: boolean;
  documents: number;
  createdAt: string;
  /** The retriever's settings, as the library's `save` records them (the reranker or cascade included). */
  retriever?: SavedRetrieverSettings;
}
/** `--chunk-size` and `--chunk-overlap` of `index`, checked. */
export function chunkOptions(args: ParsedArgs): { chunkSize: number; chunkOverlap: number } {
  const chunkSize = intOption(args, "chunk-size", 1000);
  const chunkOverlap = nonNegativeIntOption(args, "chunk-overlap", 100);
  if (chunkOverlap >= chunkSize) {
    throw new InvalidArgumentError(
      `--chunk-overlap (${chunkOverlap}) must be smaller than --chunk-size (${chunkSize}); e.g. --chunk-overlap ${Math.floor(chunkSize / 10)}.`,
    );
  }
  return { chunkSize, chunkOverlap };
}
/** The options every `index` run takes (into a folder or a table): output, update mode and chunking, checked. */
export function indexRunOptions(
  args: ParsedArgs,
  holder: "index" | "table",
): { json: boolean; append: boolean; rebuild: boolean; chunkSize: number; chunkOverlap: number } {
  const json = args.options.has("json");
  const append = args.options.has("append");
  const rebuild = args.options.has("rebuild");
  if (append && rebuild) {
    throw new InvalidArgumentError(`Pass --append (add to the ${holder}) or --rebuild (replace it), not both.`);
  }
  return { json, append, rebuild, ...chunkOptions(args) };
}

/** `two-stage index <inputs…> --out <dir> [--append | --rebuild] [--stage1 dense|bm25|hybrid]` */
export async function indexCommand(args: ParsedArgs): Promise<void> {
  const out = stringOption(args, "out");
  if (!out) throw new InvalidArgumentError("index needs --out <dir>: where to write the index.");
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  const { json, append, rebuild, chunkSize, chunkOverlap } = indexRunOptions(args, "index");
  // Refuse a target that is not ours before any work (save checks again).
  checkSaveTarget(out, { markerSets: [["faiss.index", "docstore.json"], [MANIFEST_FILE]], kind: "index" });
  // One writer for the whole command: another index run on this folder between our load and our save would be lost.
  const target = path.resolve(out);
  const created = !fs.existsSync(target);
  const lock = await holdFolder(target, { purpose: "two-stage index" });
  let finished = false;
  try {
    await indexLocked(args, out, { json, append, rebuild, chunkSize, chunkOverlap });
    finished = true;
  } finally {
    lock.release();
    // A first run that failed leaves nothing behind: the folder it created holds only the lock file.
    if (!finished && created && fs.readdirSync(target).every((name) => name === LOCK_FILE)) {
      fs.rmSync(target, { recursive: true, force: true });
    }
  }
}

async function indexLocked(
  args: ParsedArgs,
  out: string,
  options: { json: boolean; append: boolean; rebuild: boolean; chunkSize: number; chunkOverlap: number },
): Promise<void> {
  const { json, append, rebuild, chunkSize, chunkOverlap } = options;
  const existing = readIndexManifest(path.resolve(out));
  const exists = existing !== undefined || fs.existsSync(path.join(out, "faiss.index"));
  if (exists && !append && !rebuild) {
    throw new InvalidArgumentError(
      `${out} already holds an index. Pass --append to add to it or --rebuild to replace it.`,
    );
  }
  if (append && !exists) throw new InvalidArgumentError(`--append: ${out} holds no index to add to.`);
  const started = performance.now();
  const { documents: docs, skipped } = await readInputs(args.positionals, chunkSize, chunkOverlap, {
    followSymlinks: args.options.has("follow-symlinks"),
  });
  const texts = docs.map((d) => d.pageContent);
  let parts: Stage1Parts;
  let choice: ModelChoice & { stage1: Stage1Kind };
  let retrieverField: SavedRetrieverSettings | undefined;
  if (append) {
    retrieverField = existing?.[RETRIEVER_FIELD] as SavedRetrieverSettings | undefined;
    const recorded = existing as Partial<IndexManifest> | undefined;
    choice = { ...modelChoice(args, recorded), stage1: (existing?.stage1 as Stage1Kind | undefined) ?? "dense" };
    const flagged = stringOption(args, "embedding-model");
    const loaded = await loadStage1(out, {
      embeddings: flagged ? new TransformersEmbeddings({ model: flagged, offline: choice.offline }) : undefined,
    });
    parts = loaded.parts;
    if (!json) process.stderr.write(`${describeModels(choice)}\n`);
    const progress = parts.store ? new Progress("embedding", docs.length, false) : undefined;
    await addToStage1(parts, docs, cliIds(docs), progress ? (count) => progress.tick(count) : undefined);
    await loaded.createdEmbeddings?.dispose();
  } else {
    const prepared = await prepareModels(args, texts);
    choice = prepared.choice;
    if (!json) process.stderr.write(`${announceModels(choice, prepared.fallbackReason)}\n`);
    const { store, bm25 } = await buildCliStage1(choice.stage1, docs, prepared.embeddings);
    parts = { store, bm25 };
    // The one manifest writer of the library: what `TwoStageRetriever.load` (and `query`) rebuild, cascade included.
    retrieverField = retrieverSettings({
      recallK: DEFAULT_RECALL_K,
      topK: DEFAULT_TOP_K,
      onRerankError: "throw",
      compressor: prepared.reranker,
    });
    await Promise.all([prepared.embeddings.dispose(), prepared.reranker.dispose()]);
  }
  const size = parts.store?.size ?? parts.bm25?.size ?? 0;
  const manifest: IndexManifest = {
    version: 1,
    ...(parts.store ? { embeddingModel: choice.embeddingModel } : {}),
    rerankerModel: choice.rerankerModel,
    lexical: choice.lexical,
    documents: size,
    createdAt: new Date().toISOString(),
    ...(retrieverField ? { [RETRIEVER_FIELD]: retrieverField } : {}),
  };
  await saveStage1(out, parts, { ...manifest });
  const summary = {
    out,
    added: docs.length,
    stage1: partsKind(parts),
    dim: parts.store?.dim,
    ms: Math.round(performance.now() - started),
    ...manifest,
    skipped,
  };
  print(
    json,
    summary,
    `Indexed ${docs.length} chunks into ${out} (${size} in all; stage 1: ${summary.stage1}${parts.store ? `, dimension ${parts.store.dim}` : ""}) in ${(summary.ms / 1000).toFixed(1)} s.` +
      (skipped.length ? `\n${describeSkippedInputs(skipped)}` : ""),
  );
}
