import fs from "node:fs";
import path from "node:path";

import { IndexError } from "../errors.js";

/** File-system calls used by {@link replaceDirectory}; tests swap `rename` to simulate a crash mid-save. */
export const directoryOps = {
  rename: (from: string, to: string): void => fs.renameSync(from, to),
};

/** A fresh sibling folder of `dir` to write into before {@link replaceDirectory}. */
export function stagingDirectory(dir: string): string {
  const target = path.resolve(dir);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(staging, { recursive: true });
  return staging;
}

/**
 * Moves a fully written `staging` folder to `dir`, replacing what was there. The old folder is moved aside first
 * and moved back if the swap fails, so an interrupted save leaves the previous index loadable; readers never see a
 * half-written folder.
 */
export function replaceDirectory(staging: string, dir: string): void {
  const target = path.resolve(dir);
  const aside = fs.existsSync(target) ? `${target}.old-${process.pid}-${Date.now()}` : undefined;
  if (aside) directoryOps.rename(target, aside);
  try {
    directoryOps.rename(staging, target);
  } catch (error) {
    if (aside) fs.renameSync(aside, target);
    fs.rmSync(staging, { recursive: true, force: true });
    throw new IndexError(
      `Could not move the new index into ${target}: ${error instanceof Error ? error.message : String(error)}. ` +
        "The previous index is still there.",
      { cause: error },
    );
  }
  if (aside) fs.rmSync(aside, { recursive: true, force: true });
}
