import { escapeHtml } from "../html_escape.js";
import { type RecallChartParams, recallChartSVG } from "./recall_chart.js";
import type { EvaluationReport } from "./report.js";

/** What `evaluate()` returns: the report, and `toHTML()` rendering it as {@link evaluationToHTML} does. */
export type EvaluationReportWithHtml = EvaluationReport & {
  /** The report as HTML: the sweep table and the recallK chart (see {@link evaluationToHTML}). */
  toHTML(params?: RecallChartParams): string;
};

/**
 * Gives `report` a `toHTML()` method (not enumerable: JSON and equality checks see the same object as before).
 * Returns the same object.
 */
export function withEvaluationHtml(report: EvaluationReport): EvaluationReportWithHtml {
  Object.defineProperty(report, "toHTML", {
    value: (params?: RecallChartParams) => evaluationToHTML(report, params),
    enumerable: false,
  });
  return report as EvaluationReportWithHtml;
}

/**
 * Renders an {@link evaluate} report as one self-contained HTML fragment (a notebook displays it, e.g. tslab's
 * `display.html`): a summary, the sweep table (the recommended recallK's row highlighted), where the judged
 * documents sit in stage 1, and the chart of {@link recallChartSVG}.
 *
 * @example
 * ```ts
 * const report = await evaluate(retriever, dataset, { recallKs: [10, 20, 50] });
 * fs.writeFileSync("report.html", evaluationToHTML(report)); // or report.toHTML()
 * ```
 */
export function evaluationToHTML(report: EvaluationReport, params: RecallChartParams = {}): string {
  const k = report.topK;
  const head = ["recallK", `nDCG@${k}`, `MRR@${k}`, "Recall@recallK", "stage 1 p50/p95 ms", "stage 2 p50/p95 ms"];
  const anyAnn = report.results.some((r) => r.annRecall !== undefined);
  if (anyAnn) head.push("ANN recall");
  head.push("judged beyond");
  const rows = report.results.map((r) => {
    const cells = [
      String(r.recallK),
      r.ndcg.toFixed(4),
      r.mrr.toFixed(4),
      r.recall.toFixed(4),
      `${r.recallP50Ms.toFixed(1)} / ${r.recallP95Ms.toFixed(1)}`,
      `${r.rerankP50Ms.toFixed(0)} / ${r.rerankP95Ms.toFixed(0)}`,
      ...(anyAnn ? [r.annRecall === undefined ? "–" : r.annRecall.toFixed(4)] : []),
      String(r.judgedBeyond),
    ];
    const recommended = r.recallK === report.recommendation.recallK;
    return `<tr${recommended ? ' class="recommended"' : ""}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
  });
  const rec = report.recommendation;
  const histogram = report.rankHistogram.map((b) => `${b.bucket}: ${b.count}`).join(", ");
  return [
    `<div class="tsr-eval">`,
    `<style>${STYLE}</style>`,
    `<p><b>${escapeHtml(report.dataset)}</b>: ${report.queries} queries, topK ${k}; stage 1 alone nDCG@${k} ` +
      `${report.stage1Ndcg.toFixed(4)}${report.stage1Only ? " (stage 1 only: no reranker ran)" : ""}.<br>` +
      `Recommendation: recallK = ${rec.recallK} (nDCG@${k} ${rec.ndcg.toFixed(4)}, within 0.005 of the best ` +
      `${rec.bestNdcg.toFixed(4)}; p50 latency ${rec.latencyP50Ms.toFixed(0)} ms per query).</p>`,
    `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>`,
    ...rows,
    `</tbody></table>`,
    `<p>Stage-1 rank of the ${report.judgedTotal} judged documents: ${escapeHtml(histogram)}</p>`,
    recallChartSVG(report, params),
    `</div>`,
  ].join("\n");
}

const STYLE = [
  ".tsr-eval{font-family:system-ui,sans-serif;font-size:13px}",
  ".tsr-eval table{border-collapse:collapse}",
  ".tsr-eval th,.tsr-eval td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}",
  ".tsr-eval th{background:#f3f3f3}",
  ".tsr-eval tr.recommended td{background:#dcf5dc;font-weight:600}",
].join("");
