import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll } from "@jest/globals";
import { buildSync } from "esbuild";

/**
 * Bundles `__tests__/support/<name>.ts` once into an .mjs a test runs as a child process (packages stay external,
 * resolved from node_modules): it starts in half the time tsx takes. Returns its path and a clean-up.
 */
export function bundleChild(name: string): { script: string; cleanup: () => void } {
  const script = path.resolve("node_modules", ".cache", "two-stage-tests", `${name}_${process.pid}.mjs`);
  buildSync({
    entryPoints: [path.join("__tests__", "support", `${name}.ts`)],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: script,
    logLevel: "warning",
  });
  return { script, cleanup: () => fs.rmSync(script, { force: true }) };
}

/**
 * For a crash test: a scratch folder and the child `support/<name>.ts` bundled before the file's tests (both removed
 * after them), and `run(dir, version, killAt)`, which runs the child as `<dir> <version> <killAt>` (it kills itself
 * at step `killAt` of its save; 0 runs to the end).
 */
export function crashChild(name: string, scratchPrefix: string) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), scratchPrefix));
  let child: { script: string; cleanup: () => void } | undefined;
  beforeAll(() => {
    child = bundleChild(name);
  });
  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    child?.cleanup();
  });
  const run = (dir: string, version: number, killAt: number) =>
    spawnSync(process.execPath, [child!.script, dir, String(version), String(killAt)], {
      encoding: "utf8",
      timeout: 60_000,
    });
  return { scratch, run };
}
