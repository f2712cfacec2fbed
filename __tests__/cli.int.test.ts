import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { cliRunner } from "./support/cli.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-cli-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
const indexDir = path.join(root, "index");
const thenModel = path.join(root, "then-cross-encoder");
buildLexicalCrossEncoder(thenModel, { corpus: TEST_CORPUS });

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs the CLI from source as a child process, with its caches inside the test folder. */
const cli = cliRunner(root);

describe("two-stage CLI", () => {
  test("index reads .jsonl and .md inputs and writes an index; a second run needs --append or --rebuild", () => {
    fs.writeFileSync(path.join(root, "notes.md"), "# Notes\n\nEspresso needs finely ground coffee.\n");
    const first = cli(
      "index",
      path.join(datasetDir, "corpus.jsonl"),
      path.join(root, "notes.md"),
      "--out",
      indexDir,
      "--lexical-models",
      "--json",
    );
    expect(first.stderr).toContain("embedding");
    expect(first.status).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ added: 25, documents: 25, dim: 384, lexical: true });
    expect(fs.existsSync(path.join(indexDir, "two-stage.json"))).toBe(true);
    const again = cli("index", path.join(root, "notes.md"), "--out", indexDir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(
      "already holds an index. Pass --update to re-embed only new and changed files (and drop removed ones), " +
        "--append to add to it, or --rebuild to replace it.",
    );
  });

  test("a failed (re)index leaves the previous index intact; a malformed line names file and line", () => {
    const bad = path.join(root, "bad.jsonl");
    fs.writeFileSync(bad, '{"_id": "a", "text": "fine"}\n{"_id": "b", "text": oops}\n');
    const failed = cli("index", bad, "--out", indexDir, "--rebuild", "--lexical-models");
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`${bad}:2: not valid JSON`);
    const query = cli("query", indexDir, "waggle dance of honeybees", "--recall-k", "5", "--top-k", "2", "--json");
    expect(query.status).toBe(0);
    const out = JSON.parse(query.stdout);
    expect(out.candidates).toHaveLength(5);
    expect(out.candidates.filter((c: { returned: boolean }) => c.returned)).toHaveLength(2);
    expect(out.candidates.find((c: { rerankRank: number }) => c.rerankRank === 1).docId).toBe("doc13");
  });

  test("query prints the table of both ranks, both scores and per-stage milliseconds", () => {
    const { status, stdout } = cli("query", indexDir, "Gutenberg printing press", "--recall-k", "6", "--top-k", "3");
    expect(status).toBe(0);
    expect(stdout).toMatch(/rank\s+stage 1 → 2\s+cosine\s+relevance\s+text/);
    expect(stdout).toMatch(/^\s+1\s+\d+ → 1\s+/m);
    expect(stdout).toContain("printing press of Gutenberg");
    expect(stdout).toMatch(/stage 1: [\d.]+ ms for 6 candidates; stage 2: [\d.]+ ms/);
  });

  test("eval prints the sweep and writes TREC run files for each stage", () => {
    const prefix = path.join(root, "runs", "tiny");
    const { status, stdout } = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--lexical-models",
      "--recall-k",
      "2,5,24",
      "--top-k",
      "3",
      "--run-out",
      prefix,
      "--json",
    );
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.results.map((r: { recallK: number }) => r.recallK)).toEqual([2, 5, 24]);
    expect(report.results[2].recall).toBe(1);
    expect(report.recommendation.recallK).toBeDefined();
    expect(report.runFiles).toEqual([
      `${prefix}.stage1.run`,
      `${prefix}.stage2.recall2.run`,
      `${prefix}.stage2.recall5.run`,
      `${prefix}.stage2.recall24.run`,
    ]);
    const line = fs.readFileSync(`${prefix}.stage2.recall5.run`, "utf8").split("\n")[0];
    expect(line).toMatch(/^q1 Q0 doc\d+ 1 -?\d+(\.\d+)?(e-?\d+)? two-stage-rerank-recall5$/); // full precision
    const table = cli("eval", "--dataset", datasetDir, "--lexical-models", "--recall-k", "2,24", "--top-k", "3");
    expect(table.stdout).toMatch(/recallK\s+nDCG@3\s+MRR@3\s+Recall@recallK/);
    expect(table.stdout).toMatch(/Recommendation: recallK = \d+/);
  });

  test("eval with a cascade (--then, --keep list) prints the keep sweep and recommends a keep", () => {
    const { status, stdout, stderr } = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--lexical-models",
      "--then",
      thenModel,
      "--recall-k",
      "24",
      "--top-k",
      "3",
      "--keep",
      "3,24",
    );
    expect(stderr).toMatch(/→ keep 3\/24 →/);
    expect(status).toBe(0);
    expect(stdout).toMatch(/Cascade at recallK 24/);
    expect(stdout).toMatch(/\n.*\b3\b.*\n.*\b24\b.*\n.*full/);
    expect(stdout).toMatch(/Recommendation: (keep = \d+|no keep)/);
    const lonely = cli("eval", "--dataset", datasetDir, "--lexical-models", "--keep", "5");
    expect(lonely.status).toBe(1);
    expect(lonely.stderr).toContain("add --then <model>");
  });

  test("index records its reranker or cascade in the library's manifest field; query restores it without flags", () => {
    const out = path.join(root, "cascade-index");
    const built = cli(
      "index",
      path.join(datasetDir, "corpus.jsonl"),
      "--out",
      out,
      "--stage1",
      "bm25",
      "--lexical-models",
      "--then",
      thenModel,
      "--keep",
      "3",
    );
    expect(built.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "two-stage.json"), "utf8"));
    expect(manifest.retriever.reranker.kind).toBe("cascade");
    expect(manifest.retriever.reranker.params.stages.map((s: { keep: number }) => s.keep)[0]).toBe(3);
    const query = cli("query", out, "waggle dance of honeybees", "--recall-k", "6", "--top-k", "2");
    expect(query.status).toBe(0);
    expect(query.stderr).toContain(`→ keep 3 → ${thenModel}`);
  });

  test("bad flags are refused with the list of options", () => {
    const { status, stderr } = cli("eval", "--dataset", datasetDir, "--recall-k", "10,x");
    expect(status).toBe(1);
    expect(stderr).toContain("--recall-k must be comma-separated positive integers");
    expect(cli("query", indexDir, "q", "--frobnicate").stderr).toContain("Unknown option '--frobnicate'");
  });

  test("npm run demo completes offline, falling back to the lexical models with a clear label", () => {
    const { status, stdout } = cli("demo", "--offline");
    expect(status).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(
      /^Hub models unavailable .*falling back to the project's LEXICAL TEST MODELS/,
    );
    expect(stdout).toContain("Indexed 36 documents");
    expect(stdout.match(/^Q: /gm)).toHaveLength(3);
    expect(stdout).toMatch(/Demo finished in [\d.]+ s\./);
  });

  test("every command has --help; --version prints the package version", () => {
    for (const command of ["index", "query", "eval", "demo", "models", "doctor"]) {
      const { status, stdout } = cli(command, "--help");
      expect(status).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: two-stage ${command}`));
    }
    expect(cli("eval", "--help").stdout).toContain("--stage1 <kind>");
    const version = cli("--version");
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync("package.json", "utf8")).version);
  });

  test("the CLI validates as the API does: topK > recallK, --append with --rebuild, overlap ≥ chunk size", () => {
    const topK = cli("query", indexDir, "honeybees", "--recall-k", "2", "--top-k", "5");
    expect(topK.status).toBe(1);
    expect(topK.stderr).toContain("topK (5) must not exceed recallK (2)");
    const both = cli("index", path.join(root, "notes.md"), "--out", indexDir, "--append", "--rebuild");
    expect(both.stderr).toContain(
      "Pass one of --append (add to the index), --update (bring it in line with the inputs) or --rebuild (replace it).",
    );
    const overlap = cli(
      "index",
      path.join(root, "notes.md"),
      "--out",
      path.join(root, "x"),
      "--chunk-size",
      "100",
      "--chunk-overlap",
      "100",
    );
    expect(overlap.status).toBe(1);
    expect(overlap.stderr).toContain("--chunk-overlap (100) must be smaller than --chunk-size (100)");
    expect(overlap.stderr).not.toContain("    at "); // no stack trace
  });

  test("eval --stage1 bm25 runs BM25 as stage 1 and keeps stage1Ndcg in --json", () => {
    const { status, stdout } = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--stage1",
      "bm25",
      "--lexical-models",
      "--recall-k",
      "5,24",
      "--top-k",
      "3",
      "--json",
    );
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.stage1).toBe("bm25");
    expect(report.stage1Ndcg).toBeGreaterThan(0);
    expect(report.results.map((r: { recallK: number }) => r.recallK)).toEqual([5, 24]);
    expect(cli("eval", "--dataset", datasetDir, "--stage1", "sparse").stderr).toContain(
      "Unknown stage 1 'sparse'. Expected one of: dense, bm25, hybrid.",
    );
  });

  test("eval --stage1-only: no reranker loaded; stage-1 nDCG, Recall@recallK to 1000 and judged beyond", () => {
    // A reranker that does not exist: --stage1-only never loads it (nor probes it).
    const args = ["eval", "--dataset", datasetDir, "--stage1", "bm25", "--stage1-only", "--offline"];
    const missing = ["--reranker-model", path.join(root, "no-such-reranker")];
    const { status, stdout, stderr } = cli(...args, ...missing, "--json");
    expect(stderr).not.toContain("Could not load");
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.stage1Only).toBe(true);
    expect(report.results.map((r: { recallK: number }) => r.recallK)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
    expect(report.results[0].ndcg).toBeCloseTo(report.stage1Ndcg, 12);
    expect(report.results.at(-1).judgedBeyond).toBe(0);
    const table = cli(...args, ...missing, "--recall-k", "1,3,24", "--top-k", "1");
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/stage 1 only \(no reranker\): nDCG@1 \d\.\d{4}, MRR@1 \d\.\d{4}/);
    expect(table.stdout).toContain("Recall@recallK");
    expect(table.stdout).toContain("judged beyond");
    expect(table.stdout).not.toContain("stage2");
    expect(table.stderr).toContain("no reranker (--stage1-only)");
  });

  test("eval --fp32 loads the embedding model's onnx/model.onnx instead of model_quantized.onnx", () => {
    const bi = path.join(root, "bi-int8-only");
    buildLexicalBiEncoder(bi, { corpus: TEST_CORPUS });
    fs.rmSync(path.join(bi, "onnx", "model.onnx"));
    const args = ["eval", "--dataset", datasetDir, "--embedding-model", bi, "--stage1-only", "--offline"];
    expect(cli(...args, "--recall-k", "3", "--top-k", "3").status).toBe(0);
    const fp32 = cli(...args, "--recall-k", "3", "--top-k", "3", "--fp32");
    expect(fp32.status).not.toBe(0);
    expect(fp32.stderr).toContain("model.onnx");
  });

  test("doctor reports faiss-node, ONNX Runtime, the transformers runtime, the model directory, the hub cache and the hub", () => {
    const { status, stdout } = cli("doctor", "--json");
    const checks = JSON.parse(stdout) as { name: string; status: string; detail: string; fix?: string }[];
    expect(checks.map((c) => c.name)).toEqual([
      "faiss-node",
      "ONNX Runtime",
      "transformers runtime",
      "model directory",
      "hub cache",
      "model hub",
    ]);
    expect(checks[3].detail).toContain(path.join(root, "models"));
    // Downloads are cached in the model directory, outside node_modules.
    expect(checks[4].detail).toContain(`${path.join(root, "models")} (outside node_modules)`);
    expect(checks[2].detail).toMatch(/^@(xenova|huggingface)\/transformers \d+\.\d+\.\d+ on onnxruntime-node \d/);
    expect(checks[0].status).toBe("ok");
    expect(checks[1].status).toBe("ok");
    expect(checks[2].status).toBe("ok");
    checks.filter((c) => c.status !== "ok").forEach((c) => expect(c.fix).toBeTruthy());
    expect(status).toBe(0);
  });

  test("doctor exits 1 when a check fails; ONNX Runtime passes when Node gives its exports under default", async () => {
    // A resolve hook that makes doctor's own import of onnxruntime-node fail, as on a broken install.
    const hooks = path.join(root, "break-ort-hooks.mjs");
    fs.writeFileSync(
      hooks,
      `export async function resolve(specifier, context, next) {
  if (specifier === "onnxruntime-node" && context.parentURL?.endsWith("/cli/doctor.ts")) throw new Error("ort removed");
  return next(specifier, context);
}\n`,
    );
    const register = path.join(root, "break-ort.mjs");
    fs.writeFileSync(
      register,
      `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hooks}`)});\n`,
    );
    const broken = cliRunner(root, {}, undefined, ["--import", register])("doctor", "--json");
    const checks = JSON.parse(broken.stdout) as { name: string; status: string }[];
    expect(checks.find((c) => c.name === "ONNX Runtime")).toMatchObject({ status: "fail", detail: "ort removed" });
    expect(broken.status).toBe(1);
    // What \`import("onnxruntime-node")\` gives under plain Node (a CommonJS module): everything under \`default\`.
    const { checkOnnxRuntime } = await import("../src/cli/doctor.js");
    const nodeShape = { __esModule: true, default: { InferenceSession: class {} } };
    expect((await checkOnnxRuntime(async () => nodeShape)).status).toBe("ok");
    expect((await checkOnnxRuntime(async () => ({ default: {} }))).status).toBe("fail");
  });

  test("index --stage1 bm25 and hybrid write one index folder each; query reads the kind from the manifest", () => {
    for (const kind of ["bm25", "hybrid"]) {
      const dir = path.join(root, `index-${kind}`);
      const built = cli(
        "index",
        path.join(datasetDir, "corpus.jsonl"),
        "--out",
        dir,
        "--stage1",
        kind,
        "--lexical-models",
        "--json",
      );
      expect(built.status).toBe(0);
      expect(JSON.parse(built.stdout)).toMatchObject({ stage1: kind, documents: 24 });
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8"));
      expect(manifest.stage1).toBe(kind);
      const { status, stdout, stderr } = cli(
        "query",
        dir,
        "waggle dance of honeybees",
        "--recall-k",
        "5",
        "--top-k",
        "2",
        "--json",
      );
      expect(status).toBe(0);
      expect(stderr).toContain(kind === "bm25" ? "stage 1: BM25 (no model)" : "stage 1: hybrid of BM25 and embeddings");
      const out = JSON.parse(stdout);
      expect(out.candidates.find((c: { rerankRank: number }) => c.rerankRank === 1).docId).toBe("doc13");
    }
    const mismatch = cli("query", path.join(root, "index-bm25"), "honeybees", "--stage1", "dense");
    expect(mismatch.stderr).toContain("holds a bm25 stage 1, not dense");
  });

  test("index refuses a folder that is not an index before any work, and says which files it skipped", () => {
    const docsDir = path.join(root, "my-docs");
    fs.mkdirSync(docsDir, { recursive: true });
    fs.writeFileSync(path.join(docsDir, "a.md"), "# A\n\nSome text about honeybees.\n");
    fs.writeFileSync(path.join(docsDir, "scan.pdf"), "%PDF-1.4");
    fs.writeFileSync(path.join(docsDir, "logo.png"), "png");
    const refused = cli("index", docsDir, "--out", docsDir, "--stage1", "bm25", "--lexical-models");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("is not empty and is not an index");
    expect(fs.readdirSync(docsDir).sort()).toEqual(["a.md", "logo.png", "scan.pdf"]); // nothing touched
    const ok = cli("index", docsDir, "--out", path.join(root, "from-docs"), "--stage1", "bm25", "--lexical-models");
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain("2 files skipped: .pdf ×1, .png ×1 (only .txt, .md and .jsonl are read)");
  });

  test("index counts and names every skipped record (file:line) in its summary", () => {
    const rows = path.join(root, "rows-with-blanks.jsonl");
    fs.writeFileSync(rows, '{"_id":"a","text":"Honeybees dance."}\n{"_id":"b","text":""}\n{"_id":"c","title":" "}\n');
    const out = path.join(root, "index-skips");
    const json = cli("index", rows, "--out", out, "--stage1", "bm25", "--lexical-models", "--json");
    expect(json.status).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.added).toBe(1);
    expect(summary.skipped).toEqual([
      { path: expect.stringMatching(/rows-with-blanks\.jsonl:2$/), reason: "empty text (text blank)" },
      { path: expect.stringMatching(/rows-with-blanks\.jsonl:3$/), reason: "empty text (title blank)" },
    ]);
    const text = cli("index", rows, "--out", out, "--rebuild", "--stage1", "bm25", "--lexical-models");
    expect(text.stdout).toMatch(/Skipped 2:\n {2}.*rows-with-blanks\.jsonl:2: empty text/);
    const bad = path.join(root, "rows-with-number.jsonl");
    fs.writeFileSync(bad, '{"_id":"a","text":"fine"}\n{"_id":"b","text":7}\n');
    const refused = cli("index", bad, "--out", path.join(root, "index-number"), "--stage1", "bm25", "--lexical-models");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`${bad}:2: "text" is number 7, not a string`);
  });

  test("a hybrid index kept inside its own input folder rebuilds: the index folder is skipped and named", () => {
    const docsDir = path.join(root, "docs-with-own-index");
    fs.mkdirSync(docsDir, { recursive: true });
    fs.writeFileSync(path.join(docsDir, "a.md"), "# A\n\nHoneybees dance to share where flowers are.\n");
    const out = path.join(docsDir, "idx");
    const first = cli("index", docsDir, "--out", out, "--stage1", "hybrid", "--lexical-models", "--json");
    expect(first.status).toBe(0);
    const again = cli("index", docsDir, "--out", out, "--stage1", "hybrid", "--rebuild", "--lexical-models", "--json");
    expect(again.stderr).not.toContain("already");
    expect(again.status).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ added: 1, documents: 1 });
    expect(summary.skipped).toEqual([{ path: out, reason: expect.stringContaining("an index folder") }]);
  });

  test("--store errors are named, without a stack trace or an unrelated model-hub hint", () => {
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "not a folder");
    const underFile = cli("query", "--store", `pglite:${path.join(file, "pgdata")}`, "honeybees");
    expect(underFile.status).toBe(1);
    expect(underFile.stderr).toBe(
      `two-stage: --store pglite:${path.join(file, "pgdata")} cannot be created: ${file} is a file, not a folder. ` +
        "Name a data directory whose parent is a folder (or does not exist yet), e.g. --store pglite:./pgdata.\n",
    );
    const refused = cli("query", "--store", "postgres://127.0.0.1:1/x", "honeybees");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^two-stage: Could not connect to --store: connect ECONNREFUSED 127\.0\.0\.1:1\. /);
    expect(refused.stderr).not.toContain("No model hub?");
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});
