import { scaleLinear, scaleLog } from "d3-scale";
import { line } from "d3-shape";

import { escapeHtml } from "../html_escape.js";
import { positiveInteger } from "../validation.js";
import type { EvaluationReport } from "./report.js";

/** Options of {@link recallChartSVG}. */
export interface RecallChartParams {
  /**
   * Width of the SVG in pixels (the legend takes the right 200).
   * @default 720
   */
  width?: number;
  /**
   * Height of the SVG in pixels.
   * @default 360
   */
  height?: number;
}

/** The attribute that marks an SVG as a chart of this package (`two-stage eval --plot` replaces only such files). */
export const RECALL_CHART_MARK = 'data-two-stage="recall-chart"';

const MARGIN = { top: 44, right: 200, bottom: 46, left: 52 };
const NDCG_COLOR = "#1f77b4";
const RECALL_COLOR = "#ff7f0e";
const STAGE1_COLOR = "#7f7f7f";
const RECOMMENDATION_COLOR = "#2ca02c";

/**
 * The recallK sweep of an {@link evaluate} report as a standalone SVG document: nDCG@topK after reranking and
 * Recall@recallK of stage 1 (the ceiling stage 2 cannot exceed) against recallK on a log axis, stage 1's own
 * nDCG@topK as a dashed reference line, and the recommended recallK marked. Scales and line paths come from
 * d3-scale and d3-shape, so it needs no DOM: write it to a file, or show it in a notebook.
 *
 * @example
 * ```ts
 * const report = await evaluate(retriever, loadBeirDataset("scifact"), { recallKs: [10, 20, 50, 100] });
 * fs.writeFileSync("sweep.svg", recallChartSVG(report)); // '<svg xmlns="http://www.w3.org/2000/svg" …'
 * ```
 */
export function recallChartSVG(report: EvaluationReport, params: RecallChartParams = {}): string {
  positiveInteger("width", params.width);
  positiveInteger("height", params.height);
  const width = params.width ?? 720;
  const height = params.height ?? 360;
  const rows = [...report.results].sort((a, b) => a.recallK - b.recallK);
  const ks = rows.map((r) => r.recallK);
  const lo = ks[0] ?? 1;
  const hi = ks[ks.length - 1] ?? 1;
  const x = scaleLog()
    .domain(lo === hi ? [lo / 2, hi * 2] : [lo, hi])
    .range([MARGIN.left, width - MARGIN.right]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([height - MARGIN.bottom, MARGIN.top]);
  const path = line<{ k: number; v: number }>()
    .x((p) => x(p.k))
    .y((p) => y(p.v));
  const series = (values: number[]) => path(rows.map((r, i) => ({ k: r.recallK, v: values[i] }))) ?? "";
  const dots = (values: number[], color: string) =>
    rows.map((r, i) => `<circle cx="${x(r.recallK)}" cy="${y(values[i])}" r="3" fill="${color}"/>`).join("");

  const ndcg = rows.map((r) => r.ndcg);
  const recall = rows.map((r) => r.recall);
  const ndcgLabel = report.stage1Only ? `nDCG@${report.topK} (stage 1 only)` : `nDCG@${report.topK} reranked`;
  const rec = report.recommendation;
  const recX = x(rec.recallK);

  const xTicks = ks
    .map(
      (k) =>
        `<line x1="${x(k)}" x2="${x(k)}" y1="${height - MARGIN.bottom}" y2="${height - MARGIN.bottom + 5}" stroke="#333"/>` +
        `<text x="${x(k)}" y="${height - MARGIN.bottom + 18}" text-anchor="middle">${k}</text>`,
    )
    .join("");
  const yTicks = y
    .ticks(5)
    .map(
      (v) =>
        `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>` +
        `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" text-anchor="end">${y.tickFormat(5)(v)}</text>`,
    )
    .join("");
  const legendX = width - MARGIN.right + 14;
  const legend = [
    [NDCG_COLOR, ndcgLabel, ""],
    [RECALL_COLOR, "Recall@recallK (stage 1)", ""],
    ...(report.stage1Only ? [] : [[STAGE1_COLOR, `nDCG@${report.topK} stage 1 alone`, ' stroke-dasharray="5 4"']]),
    [RECOMMENDATION_COLOR, `recommended: ${rec.recallK}`, ' stroke-dasharray="2 3"'],
  ]
    .map(
      ([color, label, dash], i) =>
        `<line x1="${legendX}" x2="${legendX + 18}" y1="${MARGIN.top + 8 + i * 18}" y2="${MARGIN.top + 8 + i * 18}" stroke="${color}" stroke-width="2"${dash}/>` +
        `<text x="${legendX + 24}" y="${MARGIN.top + 12 + i * 18}">${escapeHtml(label)}</text>`,
    )
    .join("");

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" ${RECALL_CHART_MARK} width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="13" font-weight="600">${escapeHtml(
      `${report.dataset}: recallK sweep, ${report.queries} queries`,
    )}</text>`,
    `<text x="${MARGIN.left}" y="34" fill="#555">${escapeHtml(
      `recommended recallK ${rec.recallK}: nDCG@${report.topK} ${rec.ndcg.toFixed(4)} (best ${rec.bestNdcg.toFixed(4)}), p50 ${rec.latencyP50Ms.toFixed(0)} ms`,
    )}</text>`,
    yTicks,
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${height - MARGIN.bottom}" y2="${height - MARGIN.bottom}" stroke="#333"/>`,
    xTicks,
    `<text x="${(MARGIN.left + width - MARGIN.right) / 2}" y="${height - 8}" text-anchor="middle">recallK (stage-1 candidates, log scale)</text>`,
    report.stage1Only
      ? ""
      : `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(report.stage1Ndcg)}" y2="${y(report.stage1Ndcg)}" stroke="${STAGE1_COLOR}" stroke-dasharray="5 4"/>`,
    `<line x1="${recX}" x2="${recX}" y1="${MARGIN.top}" y2="${height - MARGIN.bottom}" stroke="${RECOMMENDATION_COLOR}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
    `<path d="${series(recall)}" fill="none" stroke="${RECALL_COLOR}" stroke-width="2"/>`,
    dots(recall, RECALL_COLOR),
    `<path d="${series(ndcg)}" fill="none" stroke="${NDCG_COLOR}" stroke-width="2"/>`,
    dots(ndcg, NDCG_COLOR),
    `<circle cx="${recX}" cy="${y(rec.ndcg)}" r="6" fill="none" stroke="${RECOMMENDATION_COLOR}" stroke-width="2"/>`,
    legend,
    `</svg>`,
  ].join("\n");
}
