// Every ```ts and ```js block of README.md and docs/*.md runs as written, each in a fresh folder, as a user who ran
// the page's install line would run it (`npx tsx snippet.ts`), except blocks marked `<!-- not-run: reason -->` (see
// docs_pages.test.ts, which keeps that list short) and the README quickstart, which scripts/check_package.sh runs
// from the packed tarball.
//
// How a snippet resolves: `two-stage-retriever` (and /testing, /pgvector, /serve) is this repository's sources
// (tsconfig.json's paths, through TSX_TSCONFIG_PATH), every other package this repository's node_modules. Models: the
// hub cannot be reached here, so every model id a snippet names (and the two defaults) is a folder in the snippet's
// working directory holding the project's lexical test model of the right kind, built over the snippet's own texts —
// a model id that is an existing folder loads from it, as for users with downloaded copies. Postgres: DATABASE_URL
// points at PGlite + pgvector served on 127.0.0.1 (support/postgres.ts), or at your server when you set it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { RUNNABLE_LANGS, codeBlocks, docPages, notRunReason } from "./support/doc_pages.js";
import { type TestPostgres, startPostgres } from "./support/postgres.js";

const ROOT = path.resolve(".");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const DEFAULT_MODELS = ["Xenova/bge-small-en-v1.5", "Xenova/ms-marco-MiniLM-L-6-v2"];

const SNIPPETS = docPages()
  .flatMap((page) => codeBlocks(page))
  .filter((b) => RUNNABLE_LANGS.has(b.lang) && notRunReason(b) === undefined && b.marker !== "smoke:quickstart");

/** Model ids named in a snippet: `org/name` strings of the hubs' usual organisations, and `model: "./folder"`. */
function modelIds(code: string): string[] {
  const named = [...code.matchAll(/["'`]((?:Xenova|cross-encoder|mixedbread-ai|jinaai|BAAI|intfloat)\/[\w.-]+)["'`]/g)];
  const folders = [...code.matchAll(/model:\s*"(\.\/[\w./-]+)"/g)];
  return [...new Set([...DEFAULT_MODELS, ...named.map((m) => m[1]), ...folders.map((m) => m[1])])];
}

/** Stand-ins at `dir/<id>`: a lexical cross-encoder for rerankers, a lexical bi-encoder (mean pooling) otherwise. */
function buildStandIns(dir: string, code: string): void {
  const quoted = [...code.matchAll(/"([^"\n]{12,})"|`([^`\n]{12,})`/g)].map((m) => m[1] ?? m[2]);
  const corpus = quoted.length > 0 ? quoted : ["an empty corpus still needs one text"];
  for (const id of modelIds(code)) {
    const target = path.join(dir, id);
    if (/rerank|marco|cross-encoder/i.test(id)) {
      buildLexicalCrossEncoder(target, { corpus });
      continue;
    }
    buildLexicalBiEncoder(target, { corpus });
    // A lexical model gives [CLS] nothing and takes no instruction: say so in its sentence-transformers files, which
    // take precedence over the profile its id would select.
    fs.mkdirSync(path.join(target, "1_Pooling"), { recursive: true });
    fs.writeFileSync(path.join(target, "1_Pooling", "config.json"), JSON.stringify({ pooling_mode_mean_tokens: true }));
    fs.writeFileSync(
      path.join(target, "config_sentence_transformers.json"),
      JSON.stringify({ prompts: { query: "", document: "" } }),
    );
  }
}

let postgres: TestPostgres;
let scratch: string;

beforeAll(async () => {
  postgres = await startPostgres();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-docs-"));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(scratch, "node_modules"), "dir");
  fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ type: "module" }));
}, 120_000);

afterAll(async () => {
  await postgres?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test("the pages have snippets to run", () => {
  expect(SNIPPETS.length).toBeGreaterThanOrEqual(10);
});

test.each(SNIPPETS.map((b) => [`${b.page}:${b.line}`, b] as const))(
  "%s runs as written",
  (_, block) => {
    const dir = path.join(scratch, `${block.page.replace(/\W/g, "_")}_${block.line}`);
    fs.mkdirSync(dir);
    buildStandIns(dir, block.code);
    const file = path.join(dir, block.lang === "ts" ? "snippet.ts" : "snippet.mjs");
    fs.writeFileSync(file, block.code);
    const modelDir = path.join(dir, ".empty-model-directory");
    fs.mkdirSync(modelDir);
    const run = spawnSync(TSX, [file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 150_000,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: path.join(ROOT, "tsconfig.json"),
        TWO_STAGE_MODEL_DIR: modelDir,
        DATABASE_URL: postgres.connectionString,
      },
    });
    if (run.status !== 0) {
      throw new Error(`${block.page}:${block.line} exited ${run.status ?? run.signal}:\n${run.stdout}\n${run.stderr}`);
    }
  },
  180_000,
);

test("every snippet type-checks as TypeScript (strict), as a user's editor would check it", () => {
  const dir = path.join(scratch, "typecheck");
  fs.mkdirSync(dir);
  const files = SNIPPETS.map((block) => {
    // `export {}` makes each file a module of its own (top-level await, no clashes between snippets).
    const file = path.join(
      dir,
      `${block.page.replace(/\W/g, "_")}_${block.line}.${block.lang === "ts" ? "ts" : "mts"}`,
    );
    fs.writeFileSync(file, `${block.code}\nexport {};\n`);
    return file;
  });
  const paths = {
    "two-stage-retriever": [path.join(ROOT, "src/index.ts")],
    "two-stage-retriever/testing": [path.join(ROOT, "src/testing/index.ts")],
    "two-stage-retriever/pgvector": [path.join(ROOT, "src/pgvector.ts")],
    "two-stage-retriever/serve": [path.join(ROOT, "src/serve.ts")],
  };
  const compilerOptions = {
    target: "ES2022",
    lib: ["ES2023"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowJs: true,
    checkJs: true,
    types: ["node"],
    paths,
  };
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const tsc = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", dir], { encoding: "utf8" });
  expect(files).toHaveLength(SNIPPETS.length);
  expect({ status: tsc.status, errors: tsc.stdout.trim() }).toEqual({ status: 0, errors: "" });
}, 300_000);
