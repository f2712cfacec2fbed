// `two-stage eval --plot file.svg` draws the sweep it printed, and never overwrites a file that is not its own chart.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RECALL_CHART_MARK } from "../src/eval/recall_chart.js";
import { cliRunner } from "./support/cli.js";
import { writeTestDataset } from "./support/dataset.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-plot-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
const cli = cliRunner(root);
const evalArgs = ["eval", "--dataset", datasetDir, "--lexical-models", "--recall-k", "2,5,24", "--top-k", "3"];

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test("--plot writes the recallK chart of the sweep, marking the recommended recallK", () => {
  const plot = path.join(root, "sweep.svg");
  const { status, stdout, stderr } = cli(...evalArgs, "--plot", plot, "--json");
  expect({ status, stderr: status === 0 ? "" : stderr }).toEqual({ status: 0, stderr: "" });
  const report = JSON.parse(stdout);
  expect(report.plot).toBe(plot);
  const svg = fs.readFileSync(plot, "utf8");
  expect(svg).toContain(RECALL_CHART_MARK);
  expect(svg.match(/<path d="M/g)).toHaveLength(2);
  expect(svg).toContain(`recommended: ${report.recommendation.recallK}`);
  // A second run replaces its own chart.
  expect(cli(...evalArgs, "--plot", plot).status).toBe(0);
});

test("--plot refuses, before any work, a path that is not an .svg, in a missing folder, or a file of someone else's", () => {
  const mine = path.join(root, "notes.svg");
  fs.writeFileSync(mine, "<svg>my drawing</svg>");
  for (const [target, message] of [
    [path.join(root, "sweep.png"), /--plot '.*sweep\.png' must name an \.svg file/],
    [path.join(root, "missing", "sweep.svg"), /the folder .*missing does not exist/],
    [mine, /exists and is not a recallK chart written by two-stage: refusing to overwrite it/],
  ] as const) {
    const { status, stderr } = cli(...evalArgs, "--plot", target);
    expect(status).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/Indexing|stage 1 alone/);
  }
  expect(fs.readFileSync(mine, "utf8")).toBe("<svg>my drawing</svg>");
});
