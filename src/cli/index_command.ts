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
import { type SkippedInput, describeSkippedInputs, readInputs } from "./input_documents.js";
import { FILES_FIELD, type UpdatePlan, planIds, planUpdate, recordedHashes, sourceHashes } from "./index_update.js";
import { type ModelChoice, describeModels, modelChoice, prepareModels } from "./models.js";
import { addToStage1, updateStage1 } from "../recall/build_stage1.js";
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
export function indexRunOptions(args: ParsedArgs, holder: "index" | "table"): IndexRunOptions {
  const json = args.options.has("json");
  const append = args.options.has("append");
  const rebuild = args.options.has("rebuild");
  const update = args.options.has("update");
  if ([append, rebuild, update].filter(Boolean).length > 1) {
    throw new InvalidArgumentError(
      `Pass one of --append (add to the ${holder}), --update (bring it in line with the inputs) or --rebuild ` +
        "(replace it).",
    );
  }
  if (update && holder === "table") {
    throw new InvalidArgumentError(
      "--update works on index folders (--out); for a table, use --append or --rebuild, or delete rows with the " +
        "store's delete({ ids }).",
    );
  }
  return { json, append, rebuild, update, ...chunkOptions(args) };
}

/** The options of one `index` run, checked. */
export interface IndexRunOptions {
  json: boolean;
  append: boolean;
  rebuild: boolean;
  /** Re-embed only new and changed files, remove deleted ones (index folders). */
  update: boolean;
  chunkSize: number;
  chunkOverlap: number;
}

/** `two-stage index <inputs…> --out <dir> [--append | --update | --rebuild] [--stage1 dense|bm25|hybrid]` */
export async function indexCommand(args: ParsedArgs): Promise<void> {
  const out = stringOption(args, "out");
  if (!out) throw new InvalidArgumentError("index needs --out <dir>: where to write the index.");
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  const options = indexRunOptions(args, "index");
  // Refuse a target that is not ours before any work (save checks again).
  checkSaveTarget(out, { markerSets: [["faiss.index", "docstore.json"], [MANIFEST_FILE]], kind: "index" });
  // One writer for the whole command: another index run on this folder between our load and our save would be lost.
  const target = path.resolve(out);
  const created = !fs.existsSync(target);
  const lock = await holdFolder(target, { purpose: "two-stage index" });
  let finished = false;
  try {
    await indexLocked(args, out, options);
    finished = true;
  } finally {
    lock.release();
    // A first run that failed leaves nothing behind: the folder it created holds only the lock file.
    if (!finished && created && fs.readdirSync(target).every((name) => name === LOCK_FILE)) {
      fs.rmSync(target, { recursive: true, force: true });
    }
  }
}

async function indexLocked(args: ParsedArgs, out: string, options: IndexRunOptions): Promise<void> {
  const { json, append, rebuild, update, chunkSize, chunkOverlap } = options;
  const existing = readIndexManifest(path.resolve(out));
  const exists = existing !== undefined || fs.existsSync(path.join(out, "faiss.index"));
  if (exists && !append && !rebuild && !update) {
    throw new InvalidArgumentError(
      `${out} already holds an index. Pass --update to re-embed only new and changed files (and drop removed ones), ` +
        "--append to add to it, or --rebuild to replace it.",
    );
  }
  if (append && !exists) throw new InvalidArgumentError(`--append: ${out} holds no index to add to.`);
  if (update && !exists) {
    throw new InvalidArgumentError(
      `--update: ${out} holds no index to update. Build it first: two-stage index <inputs> --out ${out}.`,
    );
  }
  const started = performance.now();
  const { documents: docs, skipped } = await readInputs(args.positionals, chunkSize, chunkOverlap, {
    followSymlinks: args.options.has("follow-symlinks"),
  });
  const texts = docs.map((d) => d.pageContent);
  let parts: Stage1Parts;
  let choice: ModelChoice & { stage1: Stage1Kind };
  let retrieverField: SavedRetrieverSettings | undefined;
  let files: Record<string, string> | undefined;
  let plan: UpdatePlan | undefined;
  if (append || update) {
    retrieverField = existing?.[RETRIEVER_FIELD] as SavedRetrieverSettings | undefined;
    const recorded = existing as Partial<IndexManifest> | undefined;
    choice = { ...modelChoice(args, recorded), stage1: (existing?.stage1 as Stage1Kind | undefined) ?? "dense" };
    const flagged = stringOption(args, "embedding-model");
    const loaded = await loadStage1(out, {
      embeddings: flagged ? new TransformersEmbeddings({ model: flagged, offline: choice.offline }) : undefined,
    });
    parts = loaded.parts;
    if (!json) process.stderr.write(`${describeModels(choice)}\n`);
    const hashes = recordedHashes(existing);
    if (update) {
      plan = planUpdate(parts, docs, skipped, hashes);
      const held = (parts.store ?? parts.bm25)!.size;
      if (plan.documents.length === 0 && new Set(plan.deleteIds).size >= held) {
        throw new InvalidArgumentError(
          `--update would remove every document of ${out} (${plan.removed.length} files gone) and add none. ` +
            "Pass the inputs the index was built from, or delete the folder.",
        );
      }
      if (!json && plan.unrecorded) {
        process.stderr.write(
          `${out} records no content hashes (built before --update): re-embedding every file once.\n`,
        );
      }
      const progress =
        parts.store && plan.documents.length > 0 ? new Progress("embedding", plan.documents.length, false) : undefined;
      await updateStage1(parts, {
        documents: plan.documents,
        ids: planIds(plan),
        deleteIds: plan.deleteIds,
        onEmbedded: progress ? (count) => progress.tick(count) : undefined,
      });
      files = plan.record;
    } else {
      const progress = parts.store ? new Progress("embedding", docs.length, false) : undefined;
      await addToStage1(parts, docs, cliIds(docs), progress ? (count) => progress.tick(count) : undefined);
      files = hashes && { ...hashes, ...sourceHashes(docs) };
    }
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
    files = sourceHashes(docs);
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
  await saveStage1(out, parts, { ...manifest, ...(files ? { [FILES_FIELD]: files } : {}) });
  if (plan) {
    printUpdate(json, out, plan, parts, performance.now() - started, skipped);
    return;
  }
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

/** What `--update` prints: the files added, changed, removed and unchanged, and how many chunks it embedded. */
function printUpdate(
  json: boolean,
  out: string,
  plan: UpdatePlan,
  parts: Stage1Parts,
  ms: number,
  skipped: SkippedInput[],
): void {
  const size = parts.store?.size ?? parts.bm25?.size ?? 0;
  const embedded = parts.store ? plan.documents.length : 0;
  const deleted = new Set(plan.deleteIds).size;
  const summary = {
    out,
    update: {
      filesAdded: plan.added,
      filesChanged: plan.changed,
      filesRemoved: plan.removed,
      filesUnchanged: plan.unchanged.length,
      filesKept: plan.kept,
      chunksEmbedded: embedded,
      chunksIndexed: plan.documents.length,
      chunksDeleted: deleted,
      unrecorded: plan.unrecorded,
    },
    documents: size,
    stage1: partsKind(parts),
    ms: Math.round(ms),
    skipped,
  };
  const files = (label: string, list: string[]) =>
    `${list.length} ${label}${list.length ? ` (${list.join(", ")})` : ""}`;
  print(
    json,
    summary,
    `Updated ${out}: files ${files("added", plan.added)}, ${files("changed", plan.changed)}, ` +
      `${files("removed", plan.removed)}, ${plan.unchanged.length} unchanged` +
      (plan.kept.length ? `, ${plan.kept.length} unreadable and kept as they were (${plan.kept.join(", ")})` : "") +
      `. ${parts.store ? "Embedded" : "Indexed"} ${plan.documents.length} chunks, deleted ${deleted}; ${size} in all ` +
      `(stage 1: ${summary.stage1}) in ${(ms / 1000).toFixed(1)} s.` +
      (skipped.length ? `\n${describeSkippedInputs(skipped)}` : ""),
  );
}
