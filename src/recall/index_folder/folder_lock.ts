import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

import { IndexError } from "../../errors.js";

/** The lock file this package keeps inside a folder it writes (an index folder, a PGlite data directory). */
export const LOCK_FILE = ".two-stage.lock";

/** What the lock file says about its holder (for messages only: the lock itself is the OS's). */
interface LockHolder {
  pid: number;
  host: string;
  purpose: string;
  since: string;
}

/** The OS lock calls of fs-native-extensions (open-file-description locks on Linux, flock on macOS, LockFileEx). */
interface NativeLocks {
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

let native: NativeLocks | undefined;

function nativeLocks(): NativeLocks {
  if (native) return native;
  try {
    native = createRequire(import.meta.url)("fs-native-extensions") as NativeLocks;
  } catch (error) {
    throw new IndexError(
      `Cannot load fs-native-extensions, which takes the OS file lock that keeps one writer per index folder ` +
        `(${process.platform}-${process.arch}): ${error instanceof Error ? error.message : String(error)}. ` +
        "Reinstall the package (npm install two-stage-retriever) on a supported platform (Linux, macOS, Windows).",
      { cause: error },
    );
  }
  return native;
}

/** A held lock; release it exactly once (later calls do nothing). */
export interface FolderLock {
  release(): void;
}

/** Options of {@link lockFolder}. */
export interface LockFolderOptions {
  /** What the holder is doing, shown to whoever finds the folder locked ("saving the index"). */
  purpose: string;
  /**
   * How long to wait for another holder, in milliseconds; 0 refuses at once.
   * @default 0
   */
  waitMs?: number;
  /** Called once when the lock is busy and this call starts waiting (e.g. to print "waiting for …"). */
  onWait?: (holder: string) => void;
}

function describeHolder(file: string): string {
  try {
    const holder = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LockHolder>;
    if (typeof holder.pid === "number") {
      return `process ${holder.pid} on ${holder.host ?? "?"} (${holder.purpose ?? "writing"}, since ${holder.since ?? "?"})`;
    }
  } catch {
    // written a moment after the lock is taken, or by an older holder: no details
  }
  return "another process";
}

function tryTake(file: string, purpose: string): FolderLock | string {
  const locks = nativeLocks();
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  let granted = false;
  try {
    granted = locks.tryLock(fd);
  } finally {
    if (!granted) fs.closeSync(fd);
  }
  if (!granted) return describeHolder(file);
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), purpose, since: new Date().toISOString() };
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${JSON.stringify(holder)}\n`, 0);
  } catch {
    // the details are for messages; the lock holds without them (e.g. a full disk)
  }
  let held = true;
  return {
    release(): void {
      if (!held) return;
      held = false;
      try {
        // Empty the holder's details first, so nobody reads a holder that is gone.
        try {
          fs.ftruncateSync(fd, 0);
        } catch {
          // details only
        }
        locks.unlock(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/**
 * Takes the exclusive lock of `folder` (its `.two-stage.lock` file, created if missing; the folder must exist): one
 * writer per folder, across processes and within one process. The lock is the operating system's (an
 * open-file-description lock on Linux, `flock` on macOS, `LockFileEx` on Windows), so it is released when the holder
 * exits, even by `kill -9`: a crashed writer never blocks the next one. The file's text names the holder (pid, host,
 * purpose) for the message a second writer gets. The file itself is left in place (removing it would race with a
 * writer opening it). Locks on network file systems depend on the server honouring them.
 */
export async function lockFolder(folder: string, options: LockFolderOptions): Promise<FolderLock> {
  const file = path.join(folder, LOCK_FILE);
  const waitMs = options.waitMs ?? 0;
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    const taken = tryTake(file, options.purpose);
    if (typeof taken !== "string") return taken;
    if (Date.now() >= deadline) {
      throw new IndexError(
        `${folder} is locked by ${taken}: one writer per folder. Wait until it finishes, or use another folder. ` +
          "(The lock is released when its process exits, even if killed, so a lock that stays means that process is still running.)",
      );
    }
    if (!waiting) {
      waiting = true;
      options.onWait?.(taken);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now()))));
  }
}

/** Folders whose lock this process holds for a whole command ({@link holdFolder}): saves inside it proceed. */
const heldForCommand = new Set<string>();

/**
 * Takes `folder`'s lock (see {@link lockFolder}) for a whole read-modify-write — e.g. the CLI's `index --append`,
 * which loads the index, embeds new documents and saves — so that no other writer can save in between and have
 * its update lost. Saves into `folder` from this process go ahead while it is held. Creates the folder if missing.
 */
export async function holdFolder(folder: string, options: LockFolderOptions): Promise<FolderLock> {
  const key = path.resolve(folder);
  fs.mkdirSync(key, { recursive: true });
  const lock = await lockFolder(key, options);
  heldForCommand.add(key);
  return {
    release(): void {
      heldForCommand.delete(key);
      lock.release();
    },
  };
}

/** True while this process holds `folder` through {@link holdFolder}. */
export function heldByThisProcess(folder: string): boolean {
  return heldForCommand.has(path.resolve(folder));
}
