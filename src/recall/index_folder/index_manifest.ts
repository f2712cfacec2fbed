import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { IndexError, InvalidArgumentError } from "../../errors.js";
import {
  abandonStaging,
  checkSaveTarget,
  publishVersion,
  recoverLegacySiblings,
  stagingFolder,
  step,
} from "./atomic_directory.js";
import { writeError } from "./checked_write.js";
import { type FolderLock, heldByThisProcess, lockFolder } from "./folder_lock.js";

/**
 * The manifest of an index folder, `two-stage.json`: each part saved in the folder has its entry (`index` for the
 * FAISS store, `bm25` for the BM25 index) naming the versioned data folder that holds its files and their sha256,
 * beside what the saver records (stage-1 kind, embedding model and profile, the CLI's model names). Replacing this one file is the
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

/** The manifest entries of index parts: each names the data folder holding that part's files. */
const PART_ENTRIES = ["index", "bm25"] as const;

/** One part of an index folder (the FAISS store, the BM25 index) as the save pipeline writes it. */
export interface IndexPart {
  /** The part's manifest entry (`index`, `bm25`); it records `data` (the versioned folder) and `checksums`. */
  entry: string;
  /** More fields of the entry (format version, counts). */
  fields: Record<string, unknown>;
  /**
   * Writes the part's files into the staging folder, each through {@link writeFileChecked} (fsynced, short writes
   * and a full disk reported); returns each file's name and sha256, recorded as the entry's `checksums`.
   */
  write(staging: string): Record<string, string>;
}

/** What {@link saveIndexFolder} saves. */
export interface IndexFolderSave {
  /** What the folder holds, for messages ("FAISS index"). */
  kind: string;
  /** Sets of top-level files that mark a folder as an index of this kind (beside a manifest). */
  markers: readonly (readonly string[])[];
  parts: readonly IndexPart[];
  /** Top-level manifest fields (stage-1 kind, models, the retriever's settings). */
  manifest?: Record<string, unknown>;
  /** Files of the parts to expose at the top level as well (FaissStore's layout). */
  exposed?: readonly string[];
}

/**
 * The one save pipeline of every index folder (FAISS, BM25, both): the target is checked (a folder that is not an
 * index is refused, never overwritten), its lock taken (one writer per folder, across processes: a second save is
 * refused with the holder's pid), every part written into one staging folder of ours and fsynced, and the new
 * version published by one atomic rename of the manifest; the previous version and our own leftovers are then
 * removed. A failure (a full disk included) leaves the previous version current and is an {@link IndexError}.
 */
export async function saveIndexFolder(directory: string, save: IndexFolderSave): Promise<void> {
  const reserved = PART_ENTRIES.filter((entry) => save.manifest !== undefined && entry in save.manifest);
  if (reserved.length > 0) {
    throw new InvalidArgumentError(
      `The manifest fields ${reserved.map((entry) => `'${entry}'`).join(", ")} are the index's own (they name its data ` +
        "folders); choose other names for your fields.",
      { argument: "manifest" },
    );
  }
  const markers = { markerSets: [...save.markers, [MANIFEST_FILE]], kind: save.kind };
  const target = checkSaveTarget(directory, markers);
  try {
    fs.mkdirSync(target, { recursive: true });
  } catch (error) {
    throw writeError(target, error, `The ${save.kind} was not saved.`);
  }
  // A command that holds the folder for its whole read-modify-write (holdFolder) has the lock already.
  let lock: FolderLock | undefined;
  try {
    if (!heldByThisProcess(target)) lock = await lockFolder(target, { purpose: `saving the ${save.kind}` });
  } catch (error) {
    if (IndexError.isInstance(error)) throw error;
    throw writeError(target, error, `The ${save.kind} was not saved.`);
  }
  try {
    recoverLegacySiblings(target, MANIFEST_FILE);
    checkSaveTarget(directory, markers); // again, under the lock
    let previous: Record<string, unknown> | undefined;
    try {
      previous = readIndexManifest(target);
    } catch {
      previous = undefined; // a damaged manifest is replaced; its data folder is cleaned up if it is ours
    }
    let staging: string;
    try {
      staging = stagingFolder(target);
    } catch (error) {
      throw writeError(target, error, `The ${save.kind} was not saved; the previous index (if any) is untouched.`);
    }
    const checksums = new Map<string, Record<string, string>>();
    try {
      step("staging-created");
      for (const part of save.parts) checksums.set(part.entry, part.write(staging));
      step("files-synced");
    } catch (error) {
      abandonStaging(staging);
      if (IndexError.isInstance(error)) throw error;
      throw writeError(target, error, `The ${save.kind} was not saved; the previous index (if any) is untouched.`);
    }
    // Only the part entries name data folders (a caller's field with a `data` key is not one of them).
    const previousData = new Set(
      PART_ENTRIES.map((entry) => entryData(previous, entry)).filter((name) => name !== undefined),
    );
    publishVersion(
      target,
      staging,
      MANIFEST_FILE,
      (data) =>
        `${JSON.stringify(
          {
            ...save.manifest,
            ...Object.fromEntries(
              save.parts.map((part) => [part.entry, { ...part.fields, data, checksums: checksums.get(part.entry) }]),
            ),
          },
          null,
          2,
        )}\n`,
      save.exposed ?? [],
      [...previousData],
    );
  } finally {
    lock?.release();
  }
}

/**
 * The folder holding a part's files: the data folder the first of `entries` in the manifest names (a part saved
 * with another, e.g. BM25 beside FAISS, lives in that part's folder), else the top level (a folder written by
 * `writeFiles` directly, or by an older version). Leftovers of interrupted saves are removed on the way.
 */
export function partFolder(directory: string, entries: readonly string[]): string {
  const target = path.resolve(directory);
  recoverLegacySiblings(target, MANIFEST_FILE);
  const manifest = readIndexManifest(target);
  const data = entries.map((entry) => entryData(manifest, entry)).find((name) => name !== undefined);
  return data ? path.join(target, data) : target;
}

/**
 * Checks the files of a part against the sha256 checksums its manifest entry records, naming the first file that
 * differs. Folders whose manifest has no such entry (saved before checksums were recorded for this part) are not
 * checked. A file the entry does not list is an {@link IndexError} too: every file of a part is covered.
 */
export function verifyPartChecksums(directory: string, entry: string, folder: string, files: readonly string[]): void {
  const target = path.resolve(directory);
  const recorded = (readIndexManifest(target)?.[entry] as { checksums?: unknown } | undefined)?.checksums;
  if (recorded === undefined) return;
  const manifestFile = path.join(target, MANIFEST_FILE);
  if (typeof recorded !== "object" || recorded === null) {
    throw new IndexError(
      `${manifestFile}: the "${entry}" checksums are malformed; the index folder is damaged. Rebuild it.`,
    );
  }
  for (const name of files) {
    const expected = (recorded as Record<string, unknown>)[name];
    const file = path.join(folder, name);
    if (typeof expected !== "string") {
      throw new IndexError(`${manifestFile} records no checksum for ${name}; the index folder is damaged. Rebuild it.`);
    }
    if (sha256File(file) !== expected) {
      throw new IndexError(
        `${file} does not match the checksum in ${manifestFile}: the file was changed or damaged after it was saved. ` +
          "Restore it from a backup or rebuild the index.",
      );
    }
  }
}

/** The sha256 (hex) of a file, read 16 MB at a time. */
export function sha256File(file: string): string {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(16 << 20);
  const fd = fs.openSync(file, "r");
  try {
    for (let position = 0; ;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}
