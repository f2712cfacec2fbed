import type { DocumentInterface } from "@langchain/core/documents";

import { documentKey } from "./documents/document_key.js";
import { escapeHtml } from "./html_escape.js";
import { positiveInteger } from "./validation.js";

/** Options of {@link explanationToHTML} (and of `explanation.toHTML()`). */
export interface ExplanationHtmlParams {
  /**
   * The documents judged relevant to this query, by id (a document matches when its `doc.id`, `metadata.id` or
   * `metadata.docId` is among them): a list of ids, or a query's judgments as `dataset.qrels.get(queryId)` gives them
   * (id → grade; grades above 0 count). Their rows are marked, and the summary says how many stage 1 found.
   * @default undefined (nothing marked)
   */
  relevant?: Iterable<string> | ReadonlyMap<string, number>;
  /**
   * Rows shown, best final rank first (then the candidates stage 2 did not rank, in stage-1 order); the summary
   * says how many were left out.
   * @default 50
   */
  maxRows?: number;
  /**
   * Characters of each document's text shown.
   * @default 160
   */
  snippetLength?: number;
}

/** The parts of an explanation the table shows (what `TwoStageRetriever.explain` returns). */
export interface ExplanationView {
  query: string;
  candidates: readonly {
    document: DocumentInterface;
    recallRank: number;
    recallScore: number;
    rerankRank?: number;
    relevanceScore?: number;
    dropped?: string;
    reranked?: boolean;
    returned: boolean;
  }[];
  timings: { recallMs: number; rerankMs: number };
}

/** What `explain()` returns: the explanation, and `toHTML()` rendering it as {@link explanationToHTML} does. */
export type WithHtml<T> = T & {
  /** The explanation as an HTML table (see {@link explanationToHTML}). */
  toHTML(params?: ExplanationHtmlParams): string;
};

/**
 * Gives `explanation` a `toHTML()` method (not enumerable: JSON, `console.table` and equality checks see the same
 * object as before). Returns the same object.
 */
export function withExplanationHtml<T extends ExplanationView>(explanation: T): WithHtml<T> {
  Object.defineProperty(explanation, "toHTML", {
    value: (params?: ExplanationHtmlParams) => explanationToHTML(explanation, params),
    enumerable: false,
  });
  return explanation as WithHtml<T>;
}

/**
 * Renders an explanation as one self-contained HTML fragment (a notebook displays it, e.g. tslab's
 * `display.html`): a summary line, then one row per candidate, best final rank first, with its stage-1 rank → final
 * rank (moves up green, down red), both scores, id, a text snippet and what happened to it (returned, dropped and
 * why, not read by stage 2); the judged-relevant ones marked when `relevant` is given.
 *
 * @example
 * ```ts
 * const explanation = await retriever.explain("what causes tides?");
 * explanationToHTML(explanation, { relevant: ["doc-7"] }); // '<div class="tsr-explain">…<table>…</table></div>'
 * ```
 */
export function explanationToHTML(explanation: ExplanationView, params: ExplanationHtmlParams = {}): string {
  positiveInteger("maxRows", params.maxRows);
  positiveInteger("snippetLength", params.snippetLength);
  const maxRows = params.maxRows ?? 50;
  const snippetLength = params.snippetLength ?? 160;
  const relevant = relevantIds(params.relevant);

  const rows = [...explanation.candidates].sort(
    (a, b) => (a.rerankRank ?? Infinity) - (b.rerankRank ?? Infinity) || a.recallRank - b.recallRank,
  );
  const shown = rows.slice(0, maxRows);
  const isRelevantDoc = (doc: DocumentInterface) =>
    relevant !== undefined && documentIds(doc).some((id) => relevant.has(id));
  const found = explanation.candidates.filter((c) => isRelevantDoc(c.document)).length;
  const moved = explanation.candidates.filter((c) => c.rerankRank !== undefined && c.rerankRank !== c.recallRank);

  const body = shown.map((c) => {
    const id = shownId(c.document);
    const isRelevant = isRelevantDoc(c.document);
    const move = c.rerankRank === undefined ? 0 : c.recallRank - c.rerankRank;
    const moveCell =
      c.rerankRank === undefined
        ? `<td class="move">${c.recallRank} → –</td>`
        : `<td class="move ${move > 0 ? "up" : move < 0 ? "down" : "same"}">${c.recallRank} → ${c.rerankRank}` +
          `${move === 0 ? "" : ` <span>${move > 0 ? "▲" : "▼"}${Math.abs(move)}</span>`}</td>`;
    const text = c.document.pageContent;
    const status = c.returned
      ? "returned"
      : c.dropped
        ? `dropped: ${c.dropped}`
        : c.reranked === false
          ? "not read by stage 2"
          : "";
    const classes = [c.returned ? "returned" : "", isRelevant ? "relevant" : ""].filter(Boolean).join(" ");
    return [
      `<tr${classes ? ` class="${classes}"` : ""}>`,
      `<td class="num">${c.rerankRank ?? ""}</td>`,
      moveCell,
      `<td class="num">${c.relevanceScore === undefined ? "–" : c.relevanceScore.toFixed(3)}</td>`,
      `<td class="num">${Number.isFinite(c.recallScore) ? c.recallScore.toFixed(3) : "–"}</td>`,
      `<td>${isRelevant ? '<span class="star" title="judged relevant">★</span> ' : ""}${escapeHtml(id)}</td>`,
      `<td class="text">${escapeHtml(text.length > snippetLength ? `${text.slice(0, snippetLength)}…` : text)}</td>`,
      `<td>${escapeHtml(status)}</td>`,
      "</tr>",
    ].join("");
  });

  const { recallMs, rerankMs } = explanation.timings;
  const summary = [
    `stage 1: ${explanation.candidates.length} candidates in ${recallMs.toFixed(1)} ms`,
    `stage 2: ${rerankMs.toFixed(1)} ms, ${moved.length} moved`,
    `${explanation.candidates.filter((c) => c.returned).length} returned`,
    ...(relevant ? [`${found} of ${relevant.size} judged relevant among the candidates`] : []),
    ...(rows.length > shown.length ? [`${rows.length - shown.length} more rows not shown (maxRows)`] : []),
  ].join(" · ");
  return [
    `<div class="tsr-explain">`,
    `<style>${STYLE}</style>`,
    `<p><b>Q: ${escapeHtml(explanation.query)}</b><br>${escapeHtml(summary)}</p>`,
    `<table><thead><tr><th>final</th><th>stage 1 → final</th><th>relevance</th><th>stage-1 score</th><th>id</th>`,
    `<th>text</th><th></th></tr></thead><tbody>`,
    ...body,
    `</tbody></table></div>`,
  ].join("\n");
}

/** Every id a document answers to: `doc.id`, `metadata.id`, `metadata.docId` (the identity rule's fields). */
function documentIds(doc: DocumentInterface): string[] {
  const meta: Record<string, unknown> = doc.metadata ?? {};
  return [doc.id, meta.id, meta.docId]
    .filter((v) => (typeof v === "string" && v !== "") || typeof v === "number")
    .map(String);
}

/** The id a reader recognises: the metadata's own id or source before a store-assigned `doc.id`. */
function shownId(doc: DocumentInterface): string {
  const meta: Record<string, unknown> = doc.metadata ?? {};
  for (const value of [meta.docId, meta.id, meta.source]) {
    if ((typeof value === "string" && value !== "") || typeof value === "number") return String(value);
  }
  const key = documentKey(doc);
  return key.startsWith("id:") ? key.slice(3) : "";
}

function relevantIds(relevant: ExplanationHtmlParams["relevant"]): Set<string> | undefined {
  if (relevant === undefined) return undefined;
  if (relevant instanceof Map) {
    return new Set([...(relevant as ReadonlyMap<string, number>)].filter(([, grade]) => grade > 0).map(([id]) => id));
  }
  return new Set([...(relevant as Iterable<string>)].map(String));
}

const STYLE = [
  ".tsr-explain{font-family:system-ui,sans-serif;font-size:13px}",
  ".tsr-explain table{border-collapse:collapse}",
  ".tsr-explain th,.tsr-explain td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}",
  ".tsr-explain th{background:#f3f3f3}",
  ".tsr-explain td.num{text-align:right;font-variant-numeric:tabular-nums}",
  ".tsr-explain td.move{white-space:nowrap;font-variant-numeric:tabular-nums}",
  ".tsr-explain td.move.up{background:#dcf5dc}.tsr-explain td.move.up span{color:#176917}",
  ".tsr-explain td.move.down{background:#fbe0e0}.tsr-explain td.move.down span{color:#a31515}",
  ".tsr-explain tr.returned td{font-weight:600}",
  ".tsr-explain tr.relevant td:first-child{border-left:4px solid #e0a800}",
  ".tsr-explain .star{color:#e0a800}",
  ".tsr-explain td.text{max-width:36em;font-weight:normal !important;color:#333}",
  // Notebook front ends right-align table cells; text reads from the left.
  ".tsr-explain th,.tsr-explain td{text-align:left !important}",
  ".tsr-explain td.num{text-align:right !important}",
].join("");
