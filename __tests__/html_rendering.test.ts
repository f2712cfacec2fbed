// What notebooks display: explain() and evaluate() results as HTML (toHTML), and the recallK chart as SVG — from the
// retriever's own results on the project's lexical models, and from hand-made results where an exact rendering of a
// case is checked (moves, escaping, a single recallK).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { CrossEncoderCompressor, TransformersEmbeddings, TwoStageRetriever } from "../src/index.js";
import { loadBeirDataset, documentText } from "../src/eval/beir_dataset.js";
import { evaluate } from "../src/eval/evaluate.js";
import { evaluationToHTML } from "../src/eval/evaluation_html.js";
import { RECALL_CHART_MARK, recallChartSVG } from "../src/eval/recall_chart.js";
import type { EvaluationReport } from "../src/eval/report.js";
import { type ExplanationView, explanationToHTML } from "../src/explanation_html.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { buildTestModels } from "./support/models.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-html-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
const models = buildTestModels(TEST_CORPUS);
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });

afterAll(async () => {
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
  models.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

const candidate = (id: string, text: string, recallRank: number, rerankRank?: number, returned = false) => ({
  document: new Document({ pageContent: text, metadata: { docId: id } }),
  recallRank,
  recallScore: 1 - recallRank / 10,
  rerankRank,
  relevanceScore: rerankRank === undefined ? undefined : 1 - rerankRank / 10,
  returned,
});

const EXPLANATION: ExplanationView = {
  query: "what <causes> tides?",
  candidates: [
    candidate("a", "Waves are raised by wind.", 1, 3),
    candidate("b", "Earthquakes slip <script>alert(1)</script>", 2, 2, true),
    candidate("c", "Tides follow the Moon's pull.", 3, 1, true),
    { ...candidate("d", "Bananas.", 4), dropped: "belowThreshold" },
  ],
  timings: { recallMs: 1.5, rerankMs: 20 },
};

/** The rows of a rendered table, each as its cells' text. */
function rows(html: string): string[][] {
  const body = html.slice(html.indexOf("<tbody>"));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((cell) => cell[1].replace(/<[^>]+>/g, "").trim()),
  );
}

describe("explanationToHTML", () => {
  const html = explanationToHTML(EXPLANATION, {
    relevant: new Map([
      ["c", 2],
      ["x", 1],
      ["a", 0],
    ]),
  });

  test("one row per candidate, best final rank first, with stage-1 rank → final rank and the move", () => {
    const table = rows(html);
    expect(table.map((r) => r[0])).toEqual(["1", "2", "3", ""]);
    expect(table.map((r) => r[1])).toEqual(["3 → 1 ▲2", "2 → 2", "1 → 3 ▼2", "4 → –"]);
    expect(html).toMatch(/<td class="move up">3 → 1/);
    expect(html).toMatch(/<td class="move down">1 → 3/);
    expect(table[3][6]).toBe("dropped: belowThreshold");
    expect(table[0][6]).toBe("returned");
  });

  test("judged-relevant documents (grade > 0) are marked, and the summary counts them", () => {
    expect(html.match(/class="returned relevant"/g)).toHaveLength(1);
    expect(rows(html)[0][4]).toBe("★ c");
    expect(rows(html)[2][4]).toBe("a"); // grade 0 is not relevant
    expect(html).toContain("1 of 2 judged relevant among the candidates");
  });

  test("text is escaped, and snippets and rows are bounded", () => {
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("Q: what &lt;causes&gt; tides?");
    const short = explanationToHTML(EXPLANATION, { maxRows: 2, snippetLength: 5 });
    expect(rows(short)).toHaveLength(2);
    expect(rows(short)[0][5]).toBe("Tides…");
    expect(short).toContain("2 more rows not shown (maxRows)");
    expect(() => explanationToHTML(EXPLANATION, { maxRows: 0 })).toThrow(/maxRows must be a positive integer/);
  });
});

function report(recallKs: number[], recommended: number): EvaluationReport {
  return {
    dataset: "tiny & <co>",
    queries: 6,
    topK: 3,
    stage1Ndcg: 0.4,
    stage1Only: false,
    results: recallKs.map((recallK, i) => ({
      recallK,
      ndcg: 0.5 + i * 0.1,
      mrr: 0.6,
      recall: 0.3 + i * 0.2,
      recallP50Ms: 1,
      recallP95Ms: 2,
      rerankP50Ms: 10 * recallK,
      rerankP95Ms: 12 * recallK,
      judgedBeyond: 5 - i,
    })),
    rankHistogram: [{ bucket: "1-10", count: 4 }],
    judgedTotal: 7,
    recommendation: { recallK: recommended, ndcg: 0.6, bestNdcg: 0.7, latencyP50Ms: 30 },
    unknownDocumentJudgments: 0,
    runs: { stage1: new Map(), stage2: new Map() },
    wallMs: 5,
  };
}

describe("recallChartSVG", () => {
  test("two series over the recallKs, left to right on a log axis, inside the plot; the recommendation marked", () => {
    const svg = recallChartSVG(report([2, 5, 24], 5), { width: 700, height: 300 });
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain(RECALL_CHART_MARK);
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    for (const d of paths) {
      const points = [...d.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(points).toHaveLength(3);
      expect(points.map((p) => p[0])).toEqual([...points.map((p) => p[0])].sort((a, b) => a - b));
      for (const [x, y] of points) {
        expect(x).toBeGreaterThanOrEqual(52);
        expect(x).toBeLessThanOrEqual(500);
        expect(y).toBeGreaterThanOrEqual(44);
        expect(y).toBeLessThanOrEqual(254);
      }
      // Log scale: 5 sits at log(5/2)/log(24/2) of the way from 2 to 24.
      const share = (points[1][0] - points[0][0]) / (points[2][0] - points[0][0]);
      expect(share).toBeCloseTo(Math.log(2.5) / Math.log(12), 3); // d3-path rounds to 3 decimals
    }
    expect(svg).toContain("recommended: 5");
    expect(svg).toContain("tiny &amp; &lt;co&gt;");
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  test("a single recallK still draws (no NaN)", () => {
    const svg = recallChartSVG(report([10], 10));
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(svg).toContain("recommended: 10");
  });
});

describe("on the retriever's own results", () => {
  test("explain().toHTML() renders the explanation and is not an enumerable field", async () => {
    const retriever = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      TEST_CORPUS.map((_, i) => ({ docId: `doc${i}` })),
      { embeddings, compressor: reranker, recallK: 6, topK: 2 },
    );
    const explanation = await retriever.explain("waggle dance of honeybees");
    expect(Object.keys(explanation)).toEqual(["query", "candidates", "documents", "timings"]);
    const html = explanation.toHTML({ relevant: ["doc13"] });
    expect(html).toBe(explanationToHTML(explanation, { relevant: ["doc13"] }));
    expect(rows(html)).toHaveLength(6);
    const returned = explanation.candidates.filter((c) => c.returned).sort((a, b) => a.rerankRank! - b.rerankRank!);
    expect(rows(html)[0][1]).toMatch(new RegExp(`^${returned[0].recallRank} → 1`));
    expect(
      rows(html)
        .filter((r) => r[4].startsWith("★"))
        .map((r) => r[4]),
    ).toEqual(["★ doc13"]);
  });

  test("evaluate().toHTML() holds the sweep table (recommended row highlighted) and the chart", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const retriever = await TwoStageRetriever.fromTexts(
      dataset.corpus.map(documentText),
      dataset.corpus.map((d) => ({ docId: d.id })),
      { embeddings, compressor: reranker, recallK: 5, topK: 3 },
    );
    const result = await evaluate(retriever, dataset, { recallKs: [2, 5, 24], topK: 3, latencyQueries: 1 });
    expect(Object.keys(result)).not.toContain("toHTML");
    const html = result.toHTML();
    expect(html).toBe(evaluationToHTML(result));
    const table = rows(html);
    expect(table.map((r) => Number(r[0]))).toEqual([2, 5, 24]);
    expect(table.map((r) => r[1])).toEqual(result.results.map((r) => r.ndcg.toFixed(4)));
    const highlighted = [...html.matchAll(/<tr class="recommended"><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(highlighted).toEqual([result.recommendation.recallK]);
    expect(html).toContain(recallChartSVG(result));
  });
});
