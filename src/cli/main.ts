#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { TwoStageError } from "../errors.js";
import { parseArgs } from "./args.js";
import { evalCommand, indexCommand, queryCommand } from "./commands.js";
import { demoCommand } from "./demo.js";
import { DEFAULT_EMBEDDING_MODEL, DEFAULT_RECALL_K, DEFAULT_RERANKER_MODEL, DEFAULT_TOP_K } from "../defaults.js";
import { MODEL_FLAG_OPTIONS, MODEL_VALUED_OPTIONS } from "./models.js";

const USAGE = `Usage: two-stage <command> [options]

Commands:
  index <files|dirs|corpus.jsonl> --out <dir> [--append | --rebuild] [--chunk-size 1000] [--chunk-overlap 100]
        read .txt/.md (split into chunks) and .jsonl records, embed them, write a FAISS index atomically
  query <index> "question" [--recall-k ${DEFAULT_RECALL_K}] [--top-k ${DEFAULT_TOP_K}]
        answer a question; table of final rank, stage-1 → stage-2 rank, both scores and per-stage milliseconds
  eval --dataset <dir> [--recall-k 10,20,50,100,200] [--top-k 10] [--max-queries N] [--run-out <prefix>]
       [--oracle-max-corpus N]
        sweep recallK on a BEIR collection: nDCG, MRR, stage-1 recall, latency, and the recallK to use
  demo  index the bundled demo corpus and answer a few questions (falls back to test models offline)
  setup-faiss [--help]
        build faiss-node locally where its install could not (no GitHub access, Alpine, arm64)

Model options (index, query, eval, demo):
  --embedding-model <id|dir>   default ${DEFAULT_EMBEDDING_MODEL} (query: the model the index was built with)
  --reranker-model <id|dir>    default ${DEFAULT_RERANKER_MODEL}
  --then <id|dir>              cascade: --reranker-model scores every candidate and keeps --keep of them (default
                               20), this model orders those (eval: --keep 10,20,50 sweeps keep against this model
                               alone on all candidates; default 10,20,50)
  --keep <n>                   what the first reranker of a cascade keeps
  --rerank-budget-ms <n>       stage 2 reads only the candidates that fit this budget (the rest keep stage-1 order)
  --offline                    never contact the hub; models must be local directories
  --lexical-models             use the project's lexical test models built over the corpus (index, eval)
  --json                       machine-readable output on stdout (progress stays on stderr)
`;

const COMMON_VALUED = [...MODEL_VALUED_OPTIONS];
const COMMON_FLAGS = [...MODEL_FLAG_OPTIONS, "json"];

function setupFaissScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, "..", "..", "scripts", "setup_faiss.mjs");
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "setup-faiss":
      return spawnSync(process.execPath, [setupFaissScript(), ...rest], { stdio: "inherit" }).status ?? 1;
    case "index":
      await indexCommand(
        parseArgs(
          rest,
          [...COMMON_VALUED, "out", "chunk-size", "chunk-overlap"],
          [...COMMON_FLAGS, "append", "rebuild"],
        ),
      );
      return 0;
    case "query":
      await queryCommand(parseArgs(rest, [...COMMON_VALUED, "recall-k", "top-k"], COMMON_FLAGS));
      return 0;
    case "eval":
      await evalCommand(
        parseArgs(
          rest,
          [...COMMON_VALUED, "dataset", "recall-k", "top-k", "max-queries", "run-out", "oracle-max-corpus"],
          COMMON_FLAGS,
        ),
      );
      return 0;
    case "demo": {
      const args = parseArgs(rest, [], ["offline"]);
      await demoCommand(args.options.has("offline"));
      return 0;
    }
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `two-stage: ${TwoStageError.isInstance(error) ? message : ((error as Error)?.stack ?? message)}\n`,
    );
    process.exitCode = 1;
  },
);
