// The two transformers.js runtimes side by side, in one run: `npm run bench:runtimes`. Each runtime is measured in
// a child process of its own (same machine, same models, same inputs), then the install of the packed tarball is
// timed in a fresh `npm init -y` project, with and without @huggingface/transformers beside it. Real weights from
// `npm run models:fetch` (the default model directory); SciFact from /work/shared/datasets.
//
//   tokenize   ms per 100 SciFact candidates: the runtime's own `encode`, and the reranker's path (token_cache's
//              memoised WordPiece walk where the tokenizer exposes its parts; `encode` otherwise), first and warm pass
//   rerank     ms to score 100 BM25 candidates of a SciFact query with ms-marco-MiniLM-L-12-v2 int8 (the package's
//              defaults: inference worker, batch size 1 for int8), median of 3 after a warm-up
//   embed      documents per second, all-MiniLM-L6-v2 int8, 300 SciFact documents (batch 32)
//   soak       RSS growth over 200 create → score → dispose cycles of the L-12 int8 reranker: through the package
//              (shared sessions) and raw (the runtime's from_pretrained + dispose() each cycle), on this thread
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor, TransformersEmbeddings, defaultModelDirectory } from "../src/index.js";
import { encodeText } from "../src/rerank/token_cache.js";
import {
  TRANSFORMERS_RUNTIMES,
  type TransformersRuntimeName,
  transformersRuntime,
} from "../src/models/transformers_runtime.js";
import { DATASETS, REPO_ROOT, machineLine, median } from "./support.js";

const RERANKER = "cross-encoder/ms-marco-MiniLM-L-12-v2";
const EMBEDDER = "Xenova/all-MiniLM-L6-v2";
const SOAK_CYCLES = Number(process.env.TWO_STAGE_SOAK_CYCLES ?? 200);
const models = defaultModelDirectory();

interface RuntimeFigures {
  runtime: string;
  version: string;
  onnxRuntime: string;
  tokenizeEncodeMs: number;
  tokenizeLibraryColdMs: number;
  tokenizeLibraryWarmMs: number;
  rerankMs: number;
  embedDocsPerSecond: number;
  soakPackageMb: { start: number; end: number; cycles: number; seconds: number };
  soakRawMb: { start: number; end: number; cycles: number; seconds: number };
}

function scifact(): { corpus: Map<string, string>; query: string; candidates: string[] } {
  const corpus = new Map(
    fs
      .readFileSync(path.join(DATASETS, "scifact", "corpus.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as { _id: string; title?: string; text: string })
      .map((doc) => [doc._id, `${doc.title ?? ""} ${doc.text}`.trim()]),
  );
  // The BM25 candidates of the parity fixture's first query.
  const fixture = JSON.parse(
    fs.readFileSync(
      path.join(REPO_ROOT, "__tests__", "fixtures", "parity", "rerank-ms-marco-minilm-l12-v2-int8.json"),
      "utf8",
    ),
  ) as { queries: { query: string; doc_ids: string[] }[] };
  const { query, doc_ids } = fixture.queries[0];
  return { corpus, query, candidates: doc_ids.map((id) => corpus.get(id)!) };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function measure(name: TransformersRuntimeName): Promise<RuntimeFigures> {
  const runtime = await transformersRuntime(name);
  const { corpus, query, candidates } = scifact();
  const rerankerDir = path.join(models, RERANKER);
  const options = { quantized: true, localFilesOnly: true };

  // Tokenization: the runtime's encode, and the reranker's path (cold memo, then warm).
  const tokenizer = await runtime.loadTokenizer({ id: rerankerDir, dir: rerankerDir }, options);
  const encodeRuns: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const started = performance.now();
    for (const text of candidates) tokenizer.encode(text, null, { add_special_tokens: false });
    encodeRuns.push(performance.now() - started);
  }
  const fresh = await runtime.loadTokenizer({ id: rerankerDir, dir: rerankerDir }, options);
  let started = performance.now();
  for (const text of candidates) encodeText(fresh, text);
  const tokenizeLibraryColdMs = performance.now() - started;
  const warmRuns: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    started = performance.now();
    for (const text of candidates) encodeText(fresh, text);
    warmRuns.push(performance.now() - started);
  }

  // Rerank: the package's defaults (worker, batch size 1 for int8).
  const reranker = new CrossEncoderCompressor({
    model: RERANKER,
    localModelRoot: models,
    offline: true,
    transformersRuntime: name,
  });
  await reranker.score(query, candidates.slice(0, 8)); // load + warm-up
  const rerankRuns: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    started = performance.now();
    await reranker.score(`${query} ${rep}`, candidates); // a new query each time: no score cache hits
    rerankRuns.push(performance.now() - started);
  }
  await reranker.dispose();

  // Embedding throughput.
  const texts = [...corpus.values()].slice(0, 300);
  const embeddings = new TransformersEmbeddings({
    model: EMBEDDER,
    localModelRoot: models,
    offline: true,
    transformersRuntime: name,
  });
  await embeddings.embedDocuments(texts.slice(0, 8));
  started = performance.now();
  await embeddings.embedDocuments(texts);
  const embedDocsPerSecond = texts.length / ((performance.now() - started) / 1000);
  await embeddings.dispose();

  // Soak through the package: create → score → dispose, on this thread.
  const pair = candidates.slice(0, 4);
  const soak = async (cycle: () => Promise<void>) => {
    await cycle();
    gc();
    const start = rssMb();
    const begun = performance.now();
    for (let i = 1; i < SOAK_CYCLES; i++) await cycle();
    gc();
    return { start, end: rssMb(), cycles: SOAK_CYCLES, seconds: (performance.now() - begun) / 1000 };
  };
  const soakPackageMb = await soak(async () => {
    const r = new CrossEncoderCompressor({
      model: RERANKER,
      localModelRoot: models,
      offline: true,
      transformersRuntime: name,
      inferenceWorker: false,
    });
    await r.score(query, pair);
    await r.dispose();
  });
  // Raw: a new session every cycle, freed by the runtime's dispose().
  const inputs = { input_ids: [101n, 2054n, 102n, 2003n, 102n] };
  const soakRawMb = await soak(async () => {
    const model = await runtime.loadSequenceClassifier({ id: rerankerDir, dir: rerankerDir }, options);
    const ids = BigInt64Array.from(inputs.input_ids);
    await model({
      input_ids: runtime.tensor("int64", ids, [1, ids.length]),
      attention_mask: runtime.tensor("int64", new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      token_type_ids: runtime.tensor("int64", new BigInt64Array(ids.length), [1, ids.length]),
    });
    await model.dispose?.();
  });

  return {
    runtime: name,
    version: runtime.version,
    onnxRuntime: runtime.onnxRuntimeVersion ?? "?",
    tokenizeEncodeMs: median(encodeRuns),
    tokenizeLibraryColdMs,
    tokenizeLibraryWarmMs: median(warmRuns),
    rerankMs: median(rerankRuns),
    embedDocsPerSecond,
    soakPackageMb,
    soakRawMb,
  };
}

/** Installs the packed tarball as the README says, then @huggingface/transformers beside it; times and sizes. */
function installs(): { step: string; command: string; seconds: number; nodeModulesMb: number; packages: number }[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-install-"));
  try {
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: REPO_ROOT })
      .toString()
      .trim()
      .split("\n")
      .at(-1)!;
    const tarball = path.join(scratch, packed);
    const app = path.join(scratch, "app");
    fs.mkdirSync(app);
    const env = {
      ...process.env,
      npm_config_audit: "false",
      npm_config_fund: "false",
      ONNXRUNTIME_NODE_INSTALL: "skip",
    };
    const run = (command: string) => {
      const begun = performance.now();
      const result = spawnSync("bash", ["-c", command], { cwd: app, env, encoding: "utf8" });
      if (result.status !== 0) throw new Error(`${command} failed:\n${result.stderr}`);
      return (performance.now() - begun) / 1000;
    };
    const size = () => Number(execFileSync("du", ["-sm", "node_modules"], { cwd: app }).toString().split("\t")[0]);
    const count = () =>
      Object.keys(
        (
          JSON.parse(fs.readFileSync(path.join(app, "node_modules", ".package-lock.json"), "utf8")) as {
            packages: object;
          }
        ).packages,
      ).length;
    run("npm init -y && npm pkg set type=module overrides.sharp=^0.34.0");
    const readme = `npm install ${tarball} @langchain/core`;
    const first = {
      step: "README install",
      command: readme,
      seconds: run(readme),
      nodeModulesMb: size(),
      packages: count(),
    };
    const hfVersion = (
      JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
        devDependencies: Record<string, string>;
      }
    ).devDependencies["@huggingface/transformers"];
    const hf = `ONNXRUNTIME_NODE_INSTALL=skip npm install @huggingface/transformers@${hfVersion}`;
    const second = {
      step: "+ @huggingface/transformers",
      command: hf,
      seconds: run(hf),
      nodeModulesMb: size(),
      packages: count(),
    };
    return [first, second];
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const child = process.argv.indexOf("--runtime");
if (child >= 0) {
  const figures = await measure(process.argv[child + 1] as TransformersRuntimeName);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  console.log(`# transformers.js runtimes — ${machineLine()}`);
  const results: RuntimeFigures[] = [];
  for (const name of TRANSFORMERS_RUNTIMES) {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", path.join(REPO_ROOT, "bench", "runtimes.ts"), "--runtime", name],
      { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 2 ** 20 },
    );
    results.push(JSON.parse(out.trim().split("\n").at(-1)!) as RuntimeFigures);
  }
  const growth = (s: RuntimeFigures["soakRawMb"]) =>
    `${s.start.toFixed(0)} → ${s.end.toFixed(0)} MB (${((s.end - s.start) / (s.cycles - 1)).toFixed(2)} MB/cycle, ${s.seconds.toFixed(0)} s)`;
  const rows: [string, (r: RuntimeFigures) => string][] = [
    ["version (onnxruntime-node)", (r) => `${r.version} (${r.onnxRuntime})`],
    ["tokenize 100 SciFact candidates, runtime encode", (r) => `${r.tokenizeEncodeMs.toFixed(1)} ms`],
    [
      "tokenize 100, reranker path (cold / warm memo)",
      (r) => `${r.tokenizeLibraryColdMs.toFixed(1)} / ${r.tokenizeLibraryWarmMs.toFixed(1)} ms`,
    ],
    ["rerank 100 candidates, L-12 int8 (worker, batch 1)", (r) => `${r.rerankMs.toFixed(0)} ms`],
    ["embed 300 SciFact docs, MiniLM-L6 int8", (r) => `${r.embedDocsPerSecond.toFixed(1)} docs/s`],
    [`RSS, ${SOAK_CYCLES} reranker create/score/dispose (package)`, (r) => growth(r.soakPackageMb)],
    [`RSS, ${SOAK_CYCLES} raw load/run/dispose (runtime)`, (r) => growth(r.soakRawMb)],
  ];
  console.log(`\n| measure | ${results.map((r) => r.runtime).join(" | ")} |`);
  console.log(`|---|${results.map(() => "---").join("|")}|`);
  for (const [label, cell] of rows) console.log(`| ${label} | ${results.map(cell).join(" | ")} |`);
  if (!process.argv.includes("--no-install")) {
    console.log(
      "\n| install (packed tarball, `npm init -y`, npm cache warm, no GitHub) | time | node_modules | packages |",
    );
    console.log("|---|---|---|---|");
    for (const i of installs()) {
      console.log(
        `| ${i.step}: \`${i.command.replace(/\/tmp\/[^ ]+\.tgz/, "two-stage-retriever-0.1.0.tgz")}\` | ${i.seconds.toFixed(1)} s | ${i.nodeModulesMb} MB | ${i.packages} |`,
      );
    }
  }
}
