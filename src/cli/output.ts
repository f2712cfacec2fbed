import type { Explanation } from "../two_stage_retriever.js";
import { type ModelChoice, describeModels } from "./models.js";
import { renderTable, snippet } from "./table.js";

/** Prints `value` as JSON (`--json`) or `text`. */
export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

/** The line that says which stage 1 and models run, and why test models stand in when they do. */
export function announceModels(choice: ModelChoice, fallbackReason?: string): string {
  const fallback = fallbackReason
    ? `Hub models unavailable (${fallbackReason}); falling back to the project's LEXICAL TEST MODELS for what needs a model${choice.stage1 === "bm25" ? ", with BM25 (real recall, no model) as stage 1" : ""}.\n`
    : "";
  return `${fallback}${describeModels(choice)}`;
}

/** Renders what each stage did for one query: the returned documents, in order, with both ranks and scores. */
export function renderExplanation(explanation: Explanation, scoreKind: string): string {
  const rows = explanation.documents.map((doc, i) => {
    const c = explanation.candidates[(doc.metadata.recallRank as number) - 1];
    const { source, docId } = c.document.metadata;
    return [
      i + 1,
      // With a cascade, every stage's rank: stage 1 → cascade stage 1 → … → final.
      [c.recallRank, ...(c.stages?.slice(0, -1).map((stage) => stage.rank) ?? []), c.rerankRank ?? "-"].join(" → "),
      c.recallScore.toFixed(3),
      c.relevanceScore === undefined ? "-" : c.relevanceScore.toFixed(3),
      snippet(c.document.pageContent, 60),
      String(docId ?? source ?? ""),
    ];
  });
  const { recallMs, rerankMs } = explanation.timings;
  return [
    `Q: ${explanation.query}`,
    renderTable(["rank", "stage 1 → 2", scoreKind, "relevance", "text", "source"], rows),
    `stage 1: ${recallMs.toFixed(1)} ms for ${explanation.candidates.length} candidates; stage 2: ${rerankMs.toFixed(1)} ms`,
  ].join("\n");
}

export function explanationJson(explanation: Explanation): unknown {
  return {
    query: explanation.query,
    timings: explanation.timings,
    candidates: explanation.candidates.map((c) => ({
      recallRank: c.recallRank,
      recallScore: c.recallScore,
      rerankRank: c.rerankRank,
      relevanceScore: c.relevanceScore,
      dropped: c.dropped,
      stages: c.stages,
      returned: c.returned,
      docId: c.document.metadata.docId,
      text: c.document.pageContent,
    })),
  };
}
