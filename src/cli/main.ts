#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const USAGE = `Usage: two-stage <command> [options]

Commands:
  setup-faiss   build faiss-node locally where its install could not (no GitHub access, Alpine, arm64)

Run 'two-stage <command> --help' for a command's options.
`;

/** Path of the plain-JS faiss fallback builder shipped beside dist/ (it also runs from postinstall). */
function setupFaissScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, "..", "..", "scripts", "setup_faiss.mjs");
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case "setup-faiss": {
      const result = spawnSync(process.execPath, [setupFaissScript(), ...rest], { stdio: "inherit" });
      return result.status ?? 1;
    }
    case undefined:
    case "-h":
    case "--help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
