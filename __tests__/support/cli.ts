import { spawnSync } from "node:child_process";
import path from "node:path";

/** What a CLI run printed and how it exited. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A runner of the CLI from source as a child process, with its caches and its model directory inside `root`
 * (`<root>/cache`, `<root>/models`: models imported on this machine never leak into a test). `env` adds or overrides
 * variables.
 */
export function cliRunner(root: string, env: NodeJS.ProcessEnv = {}): (...args: string[]) => CliResult {
  return (...args) => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        XDG_CACHE_HOME: path.join(root, "cache"),
        TWO_STAGE_MODEL_DIR: path.join(root, "models"),
        ...env,
      },
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}
