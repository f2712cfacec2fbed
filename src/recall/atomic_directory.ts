import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { IndexError, InvalidArgumentError } from "../errors.js";

/**
 * File-system calls and a step hook used by {@link publishVersion}. Tests swap `rename` to simulate a failing
 * rename, and set `step` to kill the process at a chosen point of a save (see `__tests__/crash_safety.test.ts`).
 */
export const directoryOps: { rename: (from: string, to: string) => void; step?: (name: string) => void } = {
  rename: (from: string, to: string): void => fs.renameSync(from, to),
  step: undefined,
};

/** Calls the test hook, if any, at a named point of a save. */
export function step(name: string): void {
  directoryOps.step?.(name);
}

/** Names this package creates inside an index folder (versioned data, staging, temporary manifest / link files). */
const DATA_PATTERN = /^data-(\d+)-[0-9a-z]+-[0-9a-f]+$/;
const STAGING_PATTERN = /^\.staging-(\d+)-[0-9a-f]+$/;
const TEMP_FILE_PATTERN = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;
/** Siblings left by the previous (0.1.0) two-rename save: `<target>.tmp-<pid>-<ms>` and `<target>.old-<pid>-<ms>`. */
const LEGACY_SIBLING = /^\.(tmp|old)-(\d+)-(\d+)$/;

/** Folders and files this process is writing right now (never removed as stale). */
const active = new Set<string>();

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A leftover of ours is stale when the process that made it is gone (or is us and no longer writing it). */
function isStale(fullPath: string, pid: number): boolean {
  if (pid === process.pid) return !active.has(fullPath);
  return !processAlive(pid);
}

/** What a folder must hold to count as an index (any one marker set, every file of it present). */
export interface IndexFolderMarkers {
  /** e.g. `[["faiss.index", "docstore.json"], ["two-stage.json"]]`. */
  markerSets: readonly (readonly string[])[];
  /** What kind of index, for messages ("FAISS index"). */
  kind: string;
}

/** True for a name this package writes inside an index folder while saving (staging, temporary files). */
function isOurScratch(name: string): boolean {
  return STAGING_PATTERN.test(name) || TEMP_FILE_PATTERN.test(name) || DATA_PATTERN.test(name);
}

/**
 * Checks that `dir` may be written as an index and returns its absolute path. Allowed: a missing path, an empty
 * folder (or one holding only our own leftovers), or a folder that already is an index (one of the marker sets is
 * present). Refused with an {@link InvalidArgumentError} naming the path: `""`, `"."`, the working directory or
 * a file-system root, an existing file, and a non-empty folder that is not an index. Saving never deletes anything
 * it did not write, so a mistyped `--out docs` cannot wipe the documents.
 */
export function checkSaveTarget(dir: string, markers: IndexFolderMarkers): string {
  if (typeof dir !== "string" || dir.trim() === "") {
    throw new InvalidArgumentError(
      `The save path must be a non-empty string; got ${typeof dir === "string" ? JSON.stringify(dir) : typeof dir}. ` +
        `Pass a folder for the ${markers.kind}, e.g. "./my-index".`,
    );
  }
  const target = path.resolve(dir);
  if (dir.trim() === "." || target === process.cwd() || target === path.parse(target).root) {
    throw new InvalidArgumentError(
      `Refusing to save the ${markers.kind} into '${dir}' (${target}): it is the working directory or a root folder. ` +
        'Pass a folder of its own, e.g. "./my-index".',
    );
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return target; // missing: created by the save
  }
  if (!stat.isDirectory()) {
    throw new InvalidArgumentError(
      `Refusing to save the ${markers.kind} to '${dir}': it is an existing file, and saving would replace it. ` +
        "Pass a new folder name.",
    );
  }
  const names = fs.readdirSync(target);
  const present = new Set(names);
  const isIndex = markers.markerSets.some((set) => set.every((name) => present.has(name)));
  const foreign = names.filter((name) => !isOurScratch(name));
  if (!isIndex && foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? `, … (${foreign.length} entries)` : "");
    throw new InvalidArgumentError(
      `Refusing to save the ${markers.kind} into '${dir}': the folder is not empty and is not an index (it holds ${shown}). ` +
        "Saving only replaces a folder that holds an index, or an empty one; pass a new folder name.",
    );
  }
  return target;
}

/** A fresh staging folder inside `target` (created with `target` if missing) to write the new version into. */
export function stagingFolder(target: string): string {
  fs.mkdirSync(target, { recursive: true });
  const staging = path.join(target, `.staging-${process.pid}-${randomBytes(6).toString("hex")}`);
  fs.mkdirSync(staging);
  active.add(staging);
  return staging;
}

/** Gives up a staging folder after a failed save: removes it. */
export function abandonStaging(staging: string): void {
  fs.rmSync(staging, { recursive: true, force: true });
  active.delete(staging);
}

function fsyncPath(file: string, directory = false): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, directory ? "r" : "r+");
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be fsynced on some platforms (Windows); durability then rests on the OS.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `text` to `file` through a temporary sibling and one rename (readers see the old or the new file). */
function writeFileAtomic(file: string, text: string): void {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`,
  );
  active.add(temp);
  try {
    fs.writeFileSync(temp, text);
    fsyncPath(temp);
    step("manifest-written");
    directoryOps.rename(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  } finally {
    active.delete(temp);
  }
}

/** Makes `target/name` the same file as `target/dataName/name`: a hard link (a copy where links fail), swapped in. */
function exposeFile(target: string, dataName: string, name: string): void {
  const source = path.join(target, dataName, name);
  const temp = path.join(target, `.${name}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  active.add(temp);
  try {
    try {
      fs.linkSync(source, temp);
    } catch {
      fs.copyFileSync(source, temp);
    }
    step(`link-created:${name}`);
    directoryOps.rename(temp, path.join(target, name));
    step(`link-renamed:${name}`);
  } finally {
    fs.rmSync(temp, { force: true });
    active.delete(temp);
  }
}

/**
 * Publishes a fully written staging folder as the index's current version, with no window in which the folder
 * holds no complete index:
 * 1. the staging folder is renamed to `data-<pid>-<time>-<random>` inside the target (not yet referenced);
 * 2. the manifest naming it is written to a temporary file, fsynced, and renamed over `manifestName`: this one
 *    atomic rename is the commit point — before it readers load the previous version, after it the new one;
 * 3. `exposed` files are hard-linked to the top level (so tools reading `faiss.index` + `docstore.json` directly,
 *    like LangChain's `FaissStore`, read the same bytes);
 * 4. the previous version's data folder (`previousData`) and stale leftovers are removed.
 * A failure before the commit removes the new data and leaves the previous version current.
 */
export function publishVersion(
  target: string,
  staging: string,
  manifestName: string,
  manifestFor: (dataName: string) => string,
  exposed: readonly string[],
  previousData?: string,
): void {
  const dataName = `data-${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const dataDir = path.join(target, dataName);
  active.add(dataDir);
  try {
    try {
      fsyncPath(staging, true);
      directoryOps.rename(staging, dataDir);
      active.delete(staging);
      step("data-renamed");
      writeFileAtomic(path.join(target, manifestName), manifestFor(dataName));
      fsyncPath(target, true);
      step("committed");
    } catch (error) {
      abandonStaging(staging);
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw new IndexError(
        `Could not publish the new index in ${target}: ${error instanceof Error ? error.message : String(error)}. ` +
          "The previous index (if any) is still there.",
        { cause: error },
      );
    }
    for (const name of exposed) exposeFile(target, dataName, name);
    if (previousData !== undefined && DATA_PATTERN.test(previousData) && previousData !== dataName) {
      fs.rmSync(path.join(target, previousData), { recursive: true, force: true });
      step("previous-removed");
    }
    removeStaleEntries(target, dataName);
    step("stale-removed");
  } finally {
    active.delete(dataDir);
  }
}

/**
 * Removes what an interrupted save of ours left inside `target` — staging folders, temporary files, data folders
 * other than `current` — when the process that wrote them is gone. Best effort (a read-only folder is left alone).
 */
export function removeStaleEntries(target: string, current: string | undefined): void {
  let names: string[];
  try {
    names = fs.readdirSync(target);
  } catch {
    return;
  }
  for (const name of names) {
    const match = STAGING_PATTERN.exec(name) ?? DATA_PATTERN.exec(name);
    const temp = TEMP_FILE_PATTERN.exec(name);
    const pid = match ? Number(match[1]) : temp ? Number(temp[2]) : undefined;
    if (pid === undefined || name === current) continue;
    const full = path.join(target, name);
    if (!isStale(full, pid)) continue;
    try {
      fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // read-only or vanished: nothing to do
    }
  }
}

/**
 * Repairs what the previous version's two-rename save could leave next to `target` when killed: a target moved
 * aside to `<target>.old-<pid>-<ms>` with nothing in its place is moved back; staging siblings
 * `<target>.tmp-<pid>-<ms>` of dead processes are removed. Only names of exactly that pattern are touched.
 */
export function recoverLegacySiblings(target: string): void {
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const leftovers = names
    .filter((name) => name.startsWith(base) && LEGACY_SIBLING.test(name.slice(base.length)))
    .map((name) => {
      const [, kind, pid, time] = LEGACY_SIBLING.exec(name.slice(base.length))!;
      return { full: path.join(parent, name), kind, pid: Number(pid), time: Number(time) };
    })
    .filter((entry) => entry.pid !== process.pid && !processAlive(entry.pid))
    .sort((a, b) => b.time - a.time);
  try {
    for (const entry of leftovers) {
      if (entry.kind === "old" && !fs.existsSync(target)) fs.renameSync(entry.full, target);
      else fs.rmSync(entry.full, { recursive: true, force: true });
    }
  } catch {
    // best effort: a read-only parent folder is left as it is
  }
}
