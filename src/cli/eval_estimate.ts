// The runtime estimate `two-stage eval` prints before a long run: the models are timed on this machine on a small
// sample of the collection, and the sample's per-document and per-pair times are scaled to the run's work.
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

/** Documents (and query–document pairs) timed for the estimate. */
export const ESTIMATE_SAMPLE = 16;

/** An estimate of an eval run, in milliseconds, and what it was measured from. */
export interface EvalEstimate {
  /** Embedding the collection (0 when an index is reused or stage 1 is BM25). */
  indexMs: number;
  /** Embedding the queries and reranking each one's deepest candidate list (scored once for every recallK). */
  queriesMs: number;
  /** The latency runs: each of `latencyQueries` queries reranked again at every recallK. */
  latencyMs: number;
  totalMs: number;
  /** Measured here: milliseconds per document embedded and per query–document pair reranked. */
  embedMsPerDocument: number;
  rerankMsPerPair: number;
  /** Documents and pairs the timing used. */
  sample: number;
}

/** What an eval run will do, for {@link estimateEvalRuntime}. */
export interface EvalWork {
  documents: Document[];
  queries: number;
  recallKs: readonly number[];
  latencyQueries: number;
  /** Whether the collection is embedded (false: a reused index, or a BM25 stage 1). */
  embedCorpus: boolean;
  /** Whether queries are embedded (dense or hybrid stage 1). */
  embedQueries: boolean;
  /** Whether a reranker runs (false: `--stage1-only`). */
  rerank: boolean;
}

/**
 * Times the models on {@link ESTIMATE_SAMPLE} documents spread through the collection (one embedding call, one rerank
 * of them against a query, each after the same call untimed: a warm-up) and scales that to the run. Loading is not
 * timed: the models were loaded before. A cascade
 * is timed through its whole compressor, on candidates its first stage mostly keeps, so the estimate is high rather
 * than low.
 */
export async function estimateEvalRuntime(
  work: EvalWork,
  embeddings: EmbeddingsInterface,
  reranker: BaseDocumentCompressor,
  query: string,
): Promise<EvalEstimate> {
  const { documents } = work;
  const step = Math.max(1, Math.floor(documents.length / ESTIMATE_SAMPLE));
  const sample = documents.filter((_, i) => i % step === 0).slice(0, ESTIMATE_SAMPLE);
  let embedMsPerDocument = 0;
  // The first run of a shape after a load is slow (measured: 2.5× the next on SciFact with bge-small), so the sample
  // goes through each model once untimed, then once timed.
  if (work.embedCorpus || work.embedQueries) {
    await embeddings.embedDocuments(sample.map((doc) => doc.pageContent));
    const started = performance.now();
    await embeddings.embedDocuments(sample.map((doc) => doc.pageContent));
    embedMsPerDocument = (performance.now() - started) / sample.length;
  }
  let rerankMsPerPair = 0;
  if (work.rerank) {
    const pairs = (docs: Document[]) => docs.map((doc) => new Document({ pageContent: doc.pageContent }));
    await reranker.compressDocuments(pairs(sample), `${query} (warm-up)`);
    const started = performance.now();
    await reranker.compressDocuments(pairs(sample), query);
    rerankMsPerPair = (performance.now() - started) / sample.length;
  }
  const deepest = Math.max(...work.recallKs);
  const indexMs = work.embedCorpus ? documents.length * embedMsPerDocument : 0;
  const queriesMs =
    work.queries *
    ((work.embedQueries ? embedMsPerDocument : 0) + Math.min(deepest, documents.length) * rerankMsPerPair);
  const latencyMs =
    Math.min(work.latencyQueries, work.queries) *
    work.recallKs.reduce((sum, k) => sum + Math.min(k, documents.length), 0) *
    rerankMsPerPair;
  return {
    indexMs,
    queriesMs,
    latencyMs,
    totalMs: indexMs + queriesMs + latencyMs,
    embedMsPerDocument,
    rerankMsPerPair,
    sample: sample.length,
  };
}

/** Runs shorter than this get no estimate line. */
export const ESTIMATE_PRINT_MS = 30_000;

/** A duration for people: seconds under two minutes, else minutes (hours past two). */
export function humanDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** The line printed before a long run: the total, its parts, how it was measured, and how to shorten it. */
export function renderEstimate(estimate: EvalEstimate, work: EvalWork): string {
  const parts = [
    estimate.indexMs > 0 ? `embedding ${work.documents.length} documents ~${humanDuration(estimate.indexMs)}` : "",
    `${work.queries} queries ~${humanDuration(estimate.queriesMs)}` +
      (work.rerank ? ` (reranking ${Math.max(...work.recallKs)} candidates each)` : ""),
    estimate.latencyMs > 0
      ? `latency runs ~${humanDuration(estimate.latencyMs)} (${Math.min(work.latencyQueries, work.queries)} queries at every recallK)`
      : "",
  ].filter(Boolean);
  const timed = [
    work.embedCorpus || work.embedQueries ? `${estimate.embedMsPerDocument.toFixed(1)} ms per document embedded` : "",
    work.rerank ? `${estimate.rerankMsPerPair.toFixed(1)} ms per pair reranked` : "",
  ].filter(Boolean);
  const shorter = [
    "--max-queries <n>",
    "fewer or smaller --recall-k values",
    ...(work.latencyQueries > 0 && work.rerank ? ["--latency-queries 0"] : []),
    ...(work.embedCorpus ? ["--index <dir> to reuse a built index"] : []),
  ];
  return (
    `Estimated run time on this machine: ~${humanDuration(estimate.totalMs)} (${parts.join("; ")}), from timing the ` +
    `models on ${estimate.sample} documents just now (${timed.join(", ")}). Shorter: ${shorter.join(", ")}.`
  );
}
