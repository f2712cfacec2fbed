import { spawnSync } from "node:child_process";
import path from "node:path";

/** What a CLI run printed and how it exited. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A runner of the CLI from source as a child process, with its caches inside `root`; `nodeArgs` go to Node before
 * the CLI (e.g. `--import` of a module-resolution hook).
 */
export function cliRunner(root: string, nodeArgs: readonly string[] = []): (...args: string[]) => CliResult {
  return (...args) => {
    const result = spawnSync(process.execPath, [...nodeArgs, "--import", "tsx", "src/cli/main.ts", ...args], {
      encoding: "utf8",
      env: { ...process.env, XDG_CACHE_HOME: path.join(root, "cache") },
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}
