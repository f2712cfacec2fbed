// `two-stage eval`: the dataset as a positional argument, `--index <dir>` reusing a built index (same numbers, no
// embedding of the corpus), the runtime estimate in --json, and an index of another collection refused.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cliRunner } from "./support/cli.js";
import { writeTestDataset } from "./support/dataset.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-eval-cli-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const cli = cliRunner(root);

interface Row {
  recallK: number;
  ndcg: number;
  mrr: number;
  recall: number;
  judgedBeyond: number;
}
const metrics = (stdout: string) =>
  (JSON.parse(stdout).results as Row[]).map(({ recallK, ndcg, mrr, recall, judgedBeyond }) => ({
    recallK,
    ndcg,
    mrr,
    recall,
    judgedBeyond,
  }));

describe("two-stage eval", () => {
  const sweep = ["--lexical-models", "--recall-k", "2,5,24", "--top-k", "3", "--latency-queries", "0", "--json"];

  test("the dataset as a positional argument gives the run --dataset gives; conflicting or missing ones are refused", () => {
    const flagged = cli("eval", "--dataset", datasetDir, ...sweep);
    expect(flagged.status).toBe(0);
    const positional = cli("eval", datasetDir, ...sweep);
    expect(positional.status).toBe(0);
    expect(metrics(positional.stdout)).toEqual(metrics(flagged.stdout));
    const estimate = JSON.parse(positional.stdout).estimate;
    expect(estimate.sample).toBe(16);
    expect(estimate.totalMs).toBeCloseTo(estimate.indexMs + estimate.queriesMs + estimate.latencyMs, 6);
    expect(estimate.indexMs).toBeCloseTo(24 * estimate.embedMsPerDocument, 6);

    const two = cli("eval", datasetDir, "--dataset", path.join(root, "other"), "--lexical-models");
    expect(two.status).toBe(1);
    expect(two.stderr).toContain(`eval got two datasets: '${datasetDir}' and --dataset`);
    const extra = cli("eval", datasetDir, "10,20", "--lexical-models");
    expect(extra.stderr).toContain("eval takes one dataset folder");
    expect(cli("eval", "--lexical-models").stderr).toContain("eval needs a dataset: two-stage eval <dir>");
  });

  test("--index reuses an index built over the corpus: the same numbers, the corpus not embedded again", () => {
    const index = path.join(root, "tiny-index");
    const built = cli("index", path.join(datasetDir, "corpus.jsonl"), "--out", index, "--lexical-models");
    expect(built.status).toBe(0);
    const fresh = cli("eval", datasetDir, ...sweep);
    const reused = cli("eval", datasetDir, "--index", index, ...sweep);
    expect(reused.status).toBe(0);
    expect(metrics(reused.stdout)).toEqual(metrics(fresh.stdout));
    expect(fresh.stderr).toMatch(/embedding\s+100% 24\/24/);
    expect(reused.stderr).not.toMatch(/embedding\s+\d+%/);
    const report = JSON.parse(reused.stdout);
    expect(report.index).toBe(index);
    expect(report.estimate.indexMs).toBe(0);

    // An index of other documents is refused: its metrics would be about another collection.
    const notes = path.join(root, "notes.md");
    fs.writeFileSync(notes, "Espresso needs finely ground coffee.\n");
    const other = path.join(root, "notes-index");
    expect(cli("index", notes, "--out", other, "--lexical-models").status).toBe(0);
    const refused = cli("eval", datasetDir, "--index", other, ...sweep);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`--index ${other} does not hold this dataset's corpus: 24 of its 24 documents`);
    const bm25 = cli("eval", datasetDir, "--index", index, "--stage1", "bm25", ...sweep);
    expect(bm25.stderr).toContain(`--index ${index} holds a dense stage 1, not bm25`);
  });
});
