import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** What a CLI run printed and how it exited. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A runner of the CLI from source as a child process, with its caches and its model directory inside `root`
 * (`<root>/cache`, `<root>/models`: models imported on this machine never leak into a test). `env` adds or overrides
 * variables; `cwd` runs it from another working directory; `nodeArgs` go to Node before the CLI (e.g. `--import` of
 * a module-resolution hook); a run still going after `timeoutMs` is killed (status null).
 */
export function cliRunner(
  root: string,
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  nodeArgs: readonly string[] = [],
  timeoutMs = 120_000,
): (...args: string[]) => CliResult {
  // From another working directory, the loader and the entry point are named by absolute path.
  const loader = cwd === undefined ? "tsx" : pathToFileURL(path.resolve("node_modules/tsx/dist/loader.mjs")).href;
  const main = cwd === undefined ? "src/cli/main.ts" : path.resolve("src/cli/main.ts");
  return (...args) => {
    const result = spawnSync(process.execPath, [...nodeArgs, "--import", loader, main, ...args], {
      encoding: "utf8",
      cwd,
      env: {
        ...process.env,
        XDG_CACHE_HOME: path.join(root, "cache"),
        TWO_STAGE_MODEL_DIR: path.join(root, "models"),
        ...env,
      },
      timeout: timeoutMs,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}
