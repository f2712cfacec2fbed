import type { KeepSweep } from "../eval/evaluate.js";
import { renderTable } from "./table.js";

/** Renders a cascade's keep sweep: one row per keep and the full rerank, and the recommended keep. */
export function renderKeepSweep(sweep: KeepSweep, topK: number): string {
  const row = (label: string, r: KeepSweep["full"]) => [
    label,
    r.ndcg.toFixed(4),
    r.mrr.toFixed(4),
    r.sameTopK.toFixed(3),
    `${r.rerankP50Ms.toFixed(0)}/${r.rerankP95Ms.toFixed(0)}`,
  ];
  const rec = sweep.recommendation;
  return [
    `Cascade at recallK ${sweep.recallK}: the first reranker keeps N, the last orders them; "full" is the last alone on all ${sweep.recallK}.`,
    renderTable(
      ["keep", `nDCG@${topK}`, `MRR@${topK}`, `same top-${topK} as full`, "stage2 p50/p95 ms"],
      [...sweep.results.map((r) => row(String(r.keep), r)), row("full", sweep.full)],
    ),
    rec.keep === "full"
      ? `Recommendation: no keep is within 0.005 nDCG@${topK} of the best; rerank every candidate with the last model (nDCG@${topK} ${rec.fullNdcg.toFixed(4)}).`
      : `Recommendation: keep = ${rec.keep} (nDCG@${topK} ${rec.ndcg.toFixed(4)} vs ${rec.fullNdcg.toFixed(4)} for the full rerank; stage-2 p50 ${rec.latencyP50Ms.toFixed(0)} ms).`,
  ].join("\n");
}
