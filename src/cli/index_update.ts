// `two-stage index --update`: which input files are new, changed or gone since the index was written, by a content
// hash of each file's documents recorded in the manifest, so only those are embedded again.
import { createHash } from "node:crypto";

import type { Document, DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "../errors.js";
import type { Stage1Parts } from "../recall/build_stage1.js";
import type { SkippedInput } from "./input_documents.js";
import { cliIds } from "./cli_stage1.js";

/** The manifest field recording, per input file (`metadata.source`), the sha256 of its documents. */
export const FILES_FIELD = "files";

/** Per input file, the sha256 of what it became: each document's id, text and metadata, in order. */
export function sourceHashes(docs: readonly DocumentInterface[]): Record<string, string> {
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  for (const doc of docs) {
    const source = String(doc.metadata.source);
    if (!hashes.has(source)) hashes.set(source, createHash("sha256"));
    hashes.get(source)!.update(`${JSON.stringify([doc.metadata.docId, doc.pageContent, doc.metadata])}\n`);
  }
  return Object.fromEntries([...hashes].map(([source, hash]) => [source, hash.digest("hex")]));
}

/** The `files` record of a manifest, or undefined when it has none (indexes written before `--update`). */
export function recordedHashes(manifest: Record<string, unknown> | undefined): Record<string, string> | undefined {
  const files = manifest?.[FILES_FIELD];
  if (typeof files !== "object" || files === null || Array.isArray(files)) return undefined;
  const entries = Object.entries(files as Record<string, unknown>);
  return entries.every(([, hash]) => typeof hash === "string")
    ? Object.fromEntries(entries as [string, string][])
    : undefined;
}

/** What `--update` will do. */
export interface UpdatePlan {
  /** Documents to embed and add: every document of a new or changed file. */
  documents: Document[];
  /** Ids to delete: every document of a changed or removed file. */
  deleteIds: string[];
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** Files that could not be read this time: their documents stay as they were. */
  kept: string[];
  /** The `files` record after the update. */
  record: Record<string, string>;
  /** True when the index had no record: every file counts as changed, every stored document is replaced. */
  unrecorded: boolean;
}

/**
 * Compares the inputs read now with the record: a file whose hash differs is changed (its documents are deleted and
 * its new ones added, so a file that lost chunks loses them in the index too), a file not recorded is added, a
 * recorded file no longer among the inputs is removed. A recorded file that was skipped this time (unreadable) is
 * kept as it was. Without a record, every stored document is deleted and every input added.
 */
export function planUpdate(
  parts: Stage1Parts,
  docs: readonly Document[],
  skipped: readonly SkippedInput[],
  recorded: Record<string, string> | undefined,
): UpdatePlan {
  const held = parts.store ?? parts.bm25!;
  const now = sourceHashes(docs);
  const bySource = new Map<string, Document[]>();
  for (const doc of docs) {
    const source = String(doc.metadata.source);
    bySource.set(source, [...(bySource.get(source) ?? []), doc]);
  }
  if (recorded === undefined) {
    return {
      documents: [...docs],
      deleteIds: held.ids(),
      added: [],
      changed: Object.keys(now),
      removed: [],
      unchanged: [],
      kept: [],
      record: now,
      unrecorded: true,
    };
  }
  const unreadable = new Set(skipped.map((entry) => entry.path));
  const plan: UpdatePlan = {
    documents: [],
    deleteIds: [],
    added: [],
    changed: [],
    removed: [],
    unchanged: [],
    kept: [],
    record: {},
    unrecorded: false,
  };
  for (const [source, hash] of Object.entries(now)) {
    plan.record[source] = hash;
    if (recorded[source] === hash) {
      plan.unchanged.push(source);
      continue;
    }
    (recorded[source] === undefined ? plan.added : plan.changed).push(source);
    plan.documents.push(...bySource.get(source)!);
    if (recorded[source] !== undefined) plan.deleteIds.push(...held.ids({ source }));
  }
  for (const [source, hash] of Object.entries(recorded)) {
    if (source in now) continue;
    if (unreadable.has(source)) {
      plan.kept.push(source);
      plan.record[source] = hash;
      continue;
    }
    plan.removed.push(source);
    plan.deleteIds.push(...held.ids({ source }));
  }
  // A new document must not take the id of one that stays (e.g. two .jsonl files with the same _id): it would
  // replace another file's document silently.
  const deleting = new Set(plan.deleteIds);
  const clash = plan.documents.find((doc) => {
    const id = String(doc.metadata.docId);
    return !deleting.has(id) && held.has(id);
  });
  if (clash) {
    throw new InvalidArgumentError(
      `--update: document id '${String(clash.metadata.docId)}' of ${String(clash.metadata.source)} is already held ` +
        "by a document of another input file. Ids must be unique across files: change one of them, or rebuild " +
        "with --rebuild.",
    );
  }
  return plan;
}

/** The ids `--update` gives the documents it adds (the CLI's ids: `metadata.docId`). */
export function planIds(plan: UpdatePlan): string[] {
  return cliIds(plan.documents);
}
