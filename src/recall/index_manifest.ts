import fs from "node:fs";
import path from "node:path";

import { IndexError } from "../errors.js";
import {
  abandonStaging,
  checkSaveTarget,
  publishVersion,
  recoverLegacySiblings,
  stagingFolder,
  step,
} from "./atomic_directory.js";

/**
 * The manifest of an index folder, `two-stage.json`: each part saved in the folder has its entry (`index` for the
 * FAISS store, `bm25` for the BM25 index) naming the versioned data folder that holds its files, beside what the
 * saver records (stage-1 kind, embedding model and profile, the CLI's model names). Replacing this one file is the
 * commit point of a save (see `publishVersion`).
 */
export const MANIFEST_FILE = "two-stage.json";

/** The manifest of an index folder, or undefined when there is none. A malformed one is an {@link IndexError}. */
export function readIndexManifest(target: string): Record<string, unknown> | undefined {
  const file = path.join(target, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IndexError(`${file} is not valid JSON; the index folder is damaged. Rebuild the index.`, {
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new IndexError(`${file} does not hold a JSON object; the index folder is damaged. Rebuild the index.`);
  }
  return parsed as Record<string, unknown>;
}

/** The data folder a manifest entry names (`<entry>.data`), or undefined. */
export function entryData(manifest: Record<string, unknown> | undefined, entry: string): string | undefined {
  const data = (manifest?.[entry] as { data?: unknown } | undefined)?.data;
  return typeof data === "string" && /^data-[\w-]+$/.test(data) ? data : undefined;
}

/** How {@link saveIndexVersion} writes one part of an index folder. */
export interface IndexVersion {
  /** What the folder holds, for messages ("BM25 index"). */
  kind: string;
  /** Files whose presence at the top level marks an index of this kind (beside a manifest). */
  markers: readonly string[];
  /** The manifest entry of this part (`bm25`); it records `data`, the versioned folder. */
  entry: string;
  /** More fields of the entry (format version, counts). */
  fields: Record<string, unknown>;
  /** Writes the part's files into the staging folder; returns their names. */
  write(staging: string): string[];
  /** Top-level manifest fields (stage-1 kind, models). */
  manifest?: Record<string, unknown>;
}

/** Flushes a file to disk (before it is published). */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Saves one part into an index folder crash-safely, as `FaissVectorStore.save` does: the target is checked (a folder
 * that is not an index is refused, never overwritten), the files are written and fsynced in a staging folder, and
 * the new version is published by one atomic rename of the manifest; the previous version and stale leftovers are
 * then removed.
 */
export function saveIndexVersion(directory: string, version: IndexVersion): void {
  const target = checkSaveTarget(directory, { markerSets: [version.markers, [MANIFEST_FILE]], kind: version.kind });
  let previous: string | undefined;
  try {
    previous = entryData(readIndexManifest(target), version.entry);
  } catch {
    previous = undefined; // a damaged manifest is replaced; its data folder is cleaned up as stale
  }
  const staging = stagingFolder(target);
  try {
    const files = version.write(staging);
    for (const name of files) fsyncFile(path.join(staging, name));
    step("files-synced");
  } catch (error) {
    abandonStaging(staging);
    if (IndexError.isInstance(error)) throw error;
    throw new IndexError(
      `Could not write the ${version.kind} into ${target}: ${error instanceof Error ? error.message : String(error)}. The previous index (if any) is untouched.`,
      { cause: error },
    );
  }
  publishVersion(
    target,
    staging,
    MANIFEST_FILE,
    (data) => `${JSON.stringify({ ...version.manifest, [version.entry]: { ...version.fields, data } }, null, 2)}\n`,
    [],
    previous,
  );
}

/**
 * The folder holding a part's files: the data folder the first of `entries` in the manifest names (a part saved
 * with another, e.g. BM25 beside FAISS, lives in that part's folder), else the top level (a folder written by
 * `writeFiles` directly, or by an older version). Leftovers of interrupted saves are removed on the way.
 */
export function partFolder(directory: string, entries: readonly string[]): string {
  const target = path.resolve(directory);
  recoverLegacySiblings(target);
  const manifest = readIndexManifest(target);
  const data = entries.map((entry) => entryData(manifest, entry)).find((name) => name !== undefined);
  return data ? path.join(target, data) : target;
}
