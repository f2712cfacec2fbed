import fs from "node:fs";
import path from "node:path";

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
