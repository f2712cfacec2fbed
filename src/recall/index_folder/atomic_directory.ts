import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { IndexError, InvalidArgumentError } from "../../errors.js";
import { LOCK_FILE } from "./folder_lock.js";

/**
 * File-system calls and a step hook used by {@link publishVersion}. Tests swap `rename` to simulate a failing
 * rename, and set `step` to kill the process at a chosen point of a save (see `__tests__/crash_safety.int.test.ts`).
 */
export const directoryOps: { rename: (from: string, to: string) => void; step?: (name: string) => void } = {
  rename: (from: string, to: string): void => fs.renameSync(from, to),
  step: undefined,
};

/** Calls the test hook, if any, at a named point of a save. */
export function step(name: string): void {
  directoryOps.step?.(name);
}

/**
 * Every folder this package creates inside an index folder carries this file, holding the token that is also in
 * the folder's name. Only such folders are ever removed as leftovers: a name alone proves nothing (a user's
 * `data-2024-12-01/` looks like ours), a file of ours inside with the folder's own token does.
 */
const OWNER_FILE = ".two-stage-owner";
const OWNER_TEXT = "two-stage-retriever";
/** `.staging-<token>` while being written, `data-<token>` once published; token = `<time36>-<hex16>`. */
const OWNED_NAME = /^(?:\.staging|data)-([0-9a-z]+-[0-9a-f]{16})$/;

/** True when `dir/name` is a folder this package created: its name carries a token and its owner file the same. */
export function isOwnedFolder(dir: string, name: string): boolean {
  const match = OWNED_NAME.exec(name);
  if (!match) return false;
  try {
    // A link is never ours (we create folders, not links), wherever it points.
    if (!fs.lstatSync(path.join(dir, name)).isDirectory()) return false;
    const owner = JSON.parse(fs.readFileSync(path.join(dir, name, OWNER_FILE), "utf8")) as {
      createdBy?: unknown;
      token?: unknown;
    };
    return owner.createdBy === OWNER_TEXT && owner.token === match[1];
  } catch {
    return false;
  }
}

/** What a folder must hold to count as an index (any one marker set, every file of it present). */
export interface IndexFolderMarkers {
  /** e.g. `[["faiss.index", "docstore.json"], ["two-stage.json"]]`. */
  markerSets: readonly (readonly string[])[];
  /** What kind of index, for messages ("FAISS index"). */
  kind: string;
}

/**
 * Checks that `dir` may be written as an index and returns its absolute path. Allowed: a missing path, an empty
 * folder (or one holding only folders of ours and our lock file), or a folder that already is an index (one of the
 * marker sets is present). Refused with an {@link InvalidArgumentError} naming the path: `""`, `"."`, the working
 * directory or a file-system root, an existing file, and a non-empty folder that is not an index. Saving never
 * deletes anything it did not write, so a mistyped `--out docs` cannot wipe the documents.
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
  const foreign = names.filter((name) => name !== LOCK_FILE && !isOwnedFolder(target, name));
  if (!isIndex && foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? `, … (${foreign.length} entries)` : "");
    throw new InvalidArgumentError(
      `Refusing to save the ${markers.kind} into '${dir}': the folder is not empty and is not an index (it holds ${shown}). ` +
        "Saving only replaces a folder that holds an index, or an empty one; pass a new folder name.",
    );
  }
  return target;
}

/**
 * A fresh staging folder inside `target` to write the new version into, marked as ours (the owner file holds the
 * token of its name). The caller holds the folder's lock.
 */
export function stagingFolder(target: string): string {
  const token = `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}`;
  const staging = path.join(target, `.staging-${token}`);
  fs.mkdirSync(staging);
  fs.writeFileSync(path.join(staging, OWNER_FILE), `${JSON.stringify({ createdBy: OWNER_TEXT, token })}\n`);
  return staging;
}

/** Gives up a staging folder after a failed save: removes it (it is ours: {@link stagingFolder} made it). */
export function abandonStaging(staging: string): void {
  fs.rmSync(staging, { recursive: true, force: true });
}

/** Flushes a file or folder to disk. Folders cannot be fsynced on some platforms (Windows): durability then rests on the OS. */
export function fsyncPath(file: string, directory = false): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, directory ? "r" : "r+");
    fs.fsyncSync(fd);
  } catch (error) {
    if (!directory) throw error;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Publishes a fully written staging folder as the index's current version, with no window in which the folder
 * holds no complete index. Every temporary file lives inside the new data folder, never beside the user's files:
 * 1. the staging folder is renamed to `data-<token>` inside the target (not yet referenced);
 * 2. the manifest naming it is written inside that folder, fsynced, and renamed over `target/manifestName`: this
 *    one atomic rename is the commit point — before it readers load the previous version, after it the new one;
 * 3. `exposed` files are hard-linked (copied where links fail) inside the data folder and renamed to the top level
 *    (so tools reading `faiss.index` + `docstore.json` directly, like LangChain's `FaissStore`, read the same bytes);
 * 4. the previous version's data folders (`previousData`, named by the previous manifest) and folders of ours left by
 *    interrupted saves are removed. The caller holds the folder's lock, so no other save is under way.
 * A failure before the commit removes the new data and leaves the previous version current.
 */
export function publishVersion(
  target: string,
  staging: string,
  manifestName: string,
  manifestFor: (dataName: string) => string,
  exposed: readonly string[],
  previousData: readonly string[] = [],
): string {
  const dataName = `data-${path.basename(staging).slice(".staging-".length)}`;
  const dataDir = path.join(target, dataName);
  try {
    fsyncPath(staging, true);
    directoryOps.rename(staging, dataDir);
    step("data-renamed");
    const next = path.join(dataDir, `.${manifestName}.next`);
    fs.writeFileSync(next, manifestFor(dataName));
    fsyncPath(next);
    step("manifest-written");
    directoryOps.rename(next, path.join(target, manifestName));
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
  for (const name of exposed) exposeFile(target, dataDir, name);
  for (const previous of previousData) {
    if (previous === dataName || !isPreviousData(target, previous)) continue;
    fs.rmSync(path.join(target, previous), { recursive: true, force: true });
    step("previous-removed");
  }
  removeOwnedLeftovers(target, dataName);
  step("stale-removed");
  return dataName;
}

/** 0.1's data-folder names (`data-<pid>-<time36>-<hex8>`), written before folders carried an owner file. */
const LEGACY_DATA_NAME = /^data-\d+-[0-9a-z]+-[0-9a-f]{8}$/;

/**
 * Whether the data folder a previous manifest names is ours to remove: a real folder (not a link) that carries our
 * owner file, or has 0.1's exact data-folder name and holds the files of an index part. A manifest naming a user's
 * folder (edited by hand, or a caller's field) does not make it ours.
 */
function isPreviousData(target: string, name: string): boolean {
  if (isOwnedFolder(target, name)) return true;
  if (!LEGACY_DATA_NAME.test(name)) return false;
  try {
    const full = path.join(target, name);
    if (!fs.lstatSync(full).isDirectory()) return false;
    const files = new Set(fs.readdirSync(full));
    return (files.has("faiss.index") && files.has("docstore.json")) || files.has("bm25.json");
  } catch {
    return false;
  }
}

/** Makes `target/name` the same file as `dataDir/name`: a hard link (a copy where links fail), swapped in. */
function exposeFile(target: string, dataDir: string, name: string): void {
  const source = path.join(dataDir, name);
  const temp = path.join(dataDir, `.${name}.link`);
  try {
    fs.linkSync(source, temp);
  } catch {
    fs.copyFileSync(source, temp);
  }
  step(`link-created:${name}`);
  directoryOps.rename(temp, path.join(target, name));
  step(`link-renamed:${name}`);
}

/**
 * Removes what interrupted saves of ours left inside `target`: staging and data folders that carry our owner file
 * (other than `current`). Anything else — whatever its name — is the user's and stays. Called only by a save, under
 * the folder's lock; `load` never removes anything. Best effort (a read-only folder is left alone).
 */
export function removeOwnedLeftovers(target: string, current: string | undefined): void {
  let names: string[];
  try {
    names = fs.readdirSync(target);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === current || !isOwnedFolder(target, name)) continue;
    try {
      fs.rmSync(path.join(target, name), { recursive: true, force: true });
    } catch {
      // read-only or vanished: nothing to do
    }
  }
}

/** Siblings left by the 0.1.0 two-rename save: `<target>.tmp-<pid>-<ms>` and `<target>.old-<pid>-<ms>`. */
const LEGACY_SIBLING = /^\.old-(\d+)-(\d+)$/;

/**
 * Repairs what the 0.1.0 two-rename save could leave next to `target` when killed between its renames: the index
 * moved aside to `<target>.old-<pid>-<ms>` with nothing in its place is moved back (a rename, nothing is removed).
 * Only a sibling of exactly that name, whose process is gone, that holds a whole index of ours (`faiss.index`,
 * `docstore.json` and our manifest) is touched; everything else in the parent folder is the user's. Other 0.1
 * leftovers (`<target>.tmp-*`) are left in place: nothing proves they are ours. Best effort.
 */
export function recoverLegacySiblings(target: string, manifestName: string): void {
  if (fs.existsSync(target)) return;
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  const aside = names
    .filter((name) => name.startsWith(base) && LEGACY_SIBLING.test(name.slice(base.length)))
    .map((name) => {
      const [, pid, time] = LEGACY_SIBLING.exec(name.slice(base.length))!;
      return { full: path.join(parent, name), pid: Number(pid), time: Number(time) };
    })
    .filter((entry) => entry.pid !== process.pid && !processAlive(entry.pid) && holdsIndex(entry.full, manifestName))
    .sort((a, b) => b.time - a.time);
  try {
    if (aside.length > 0) fs.renameSync(aside[0].full, target);
  } catch {
    // best effort: a read-only parent folder is left as it is
  }
}

/** A real folder holding `faiss.index`, `docstore.json` and a manifest that is a JSON object. */
function holdsIndex(folder: string, manifestName: string): boolean {
  try {
    if (!fs.lstatSync(folder).isDirectory()) return false;
    if (!fs.existsSync(path.join(folder, "faiss.index")) || !fs.existsSync(path.join(folder, "docstore.json"))) {
      return false;
    }
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(folder, manifestName), "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
