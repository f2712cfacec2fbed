// The parts of `two-stage eval` that need no models: the dataset argument, the note when the recommendation is the
// edge of the sweep (and the next sweep it suggests), and the runtime estimate's arithmetic and wording.
import { Document } from "@langchain/core/documents";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { evalDatasetArgument, nextSweep, renderReport } from "../src/cli/eval_command.js";
import { estimateEvalRuntime, humanDuration, renderEstimate } from "../src/cli/eval_estimate.js";
import type { EvaluationReport } from "../src/eval/evaluate.js";

const args = (positionals: string[], options: [string, string][] = []) => ({
  positionals,
  options: new Map<string, string | true>(options),
});

/** A report of a sweep over `recallKs` whose recommendation is `recommended`. */
function report(recallKs: number[], recommended: number): EvaluationReport {
  return {
    dataset: "tiny",
    queries: 5,
    topK: 10,
    stage1Ndcg: 0.5,
    stage1Only: false,
    results: recallKs.map((recallK) => ({
      recallK,
      ndcg: 0.6,
      mrr: 0.6,
      recall: 0.9,
      recallP50Ms: 1,
      recallP95Ms: 2,
      rerankP50Ms: 10,
      rerankP95Ms: 20,
      judgedBeyond: 1,
    })),
    rankHistogram: [],
    judgedTotal: 6,
    recommendation: { recallK: recommended, ndcg: 0.6, bestNdcg: 0.6, latencyP50Ms: 11 },
    unknownDocumentJudgments: 0,
    wallMs: 1000,
    runs: { stage1: new Map(), stage2: new Map() },
  } as unknown as EvaluationReport;
}

describe("eval's dataset argument", () => {
  test("positional or --dataset; the same folder twice is fine; two folders, extra words or none are refused", () => {
    expect(evalDatasetArgument(args(["data/scifact"]))).toBe("data/scifact");
    expect(evalDatasetArgument(args([], [["dataset", "data/cisi"]]))).toBe("data/cisi");
    expect(evalDatasetArgument(args(["data/cisi"], [["dataset", "data/cisi"]]))).toBe("data/cisi");
    expect(() => evalDatasetArgument(args(["a"], [["dataset", "b"]]))).toThrow(
      "eval got two datasets: 'a' and --dataset 'b'. Pass one: two-stage eval <dir>.",
    );
    expect(() => evalDatasetArgument(args(["a", "b"]))).toThrow("eval takes one dataset folder; got 'a b'.");
    expect(() => evalDatasetArgument(args([]))).toThrow("eval needs a dataset: two-stage eval <dir>");
  });
});

describe("a recommendation at the edge of the sweep", () => {
  test("says so and suggests the next sweep; inside the sweep it says nothing", () => {
    expect(nextSweep(report([10, 20, 50, 100, 200], 200))).toEqual([200, 300, 500]);
    const text = renderReport(report([10, 20, 50, 100, 200], 200));
    expect(text).toContain("recallK = 200 is the largest value tried");
    expect(text).toContain("Next: --recall-k 200,300,500");
    expect(nextSweep(report([10, 20, 50, 100, 200], 50))).toBeUndefined();
    expect(renderReport(report([10, 20, 50, 100, 200], 50))).not.toContain("largest value tried");
    expect(nextSweep({ ...report([10, 20], 20), stage1Only: true })).toBeUndefined();
  });
});

describe("the runtime estimate", () => {
  const docs = Array.from({ length: 1000 }, (_, i) => new Document({ pageContent: `document ${i}` }));
  let embedded = 0;
  let reranked = 0;
  const embeddings = {
    embedDocuments: async (texts: string[]) => {
      embedded += texts.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return texts.map(() => [1, 0]);
    },
    embedQuery: async () => [1, 0],
  };
  const reranker = {
    compressDocuments: async (documents: Document[]) => {
      reranked += documents.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return documents;
    },
  } as unknown as BaseDocumentCompressor;

  test("times 16 documents spread through the collection and scales them to the run's work", async () => {
    const work = {
      documents: docs,
      queries: 300,
      recallKs: [10, 20, 50, 100, 200],
      latencyQueries: 20,
      embedCorpus: true,
      embedQueries: true,
      rerank: true,
    };
    const estimate = await estimateEvalRuntime(work, embeddings, reranker, "what causes tides?");
    expect([embedded, reranked]).toEqual([32, 32]); // 16 warm-up + 16 timed
    expect(estimate.sample).toBe(16);
    expect(estimate.indexMs).toBeCloseTo(1000 * estimate.embedMsPerDocument, 6);
    expect(estimate.queriesMs).toBeCloseTo(300 * (estimate.embedMsPerDocument + 200 * estimate.rerankMsPerPair), 6);
    expect(estimate.latencyMs).toBeCloseTo(20 * 380 * estimate.rerankMsPerPair, 6);
    expect(estimate.totalMs).toBeCloseTo(estimate.indexMs + estimate.queriesMs + estimate.latencyMs, 6);
    const line = renderEstimate(estimate, work);
    expect(line).toMatch(/^Estimated run time on this machine: ~\d+(\.\d)? (s|min|h) \(embedding 1000 documents ~/);
    expect(line).toContain("300 queries ~");
    expect(line).toContain("(reranking 200 candidates each)");
    expect(line).toContain("from timing the models on 16 documents just now");
    expect(line).toContain("Shorter: --max-queries <n>");
    expect(line).toContain("--index <dir> to reuse a built index");

    // A reused index and no reranker: nothing of the corpus is embedded, nothing reranked.
    embedded = reranked = 0;
    const cheap = await estimateEvalRuntime(
      { ...work, embedCorpus: false, rerank: false, latencyQueries: 0 },
      embeddings,
      reranker,
      "q",
    );
    expect(reranked).toBe(0);
    expect(cheap.indexMs).toBe(0);
    expect(cheap.latencyMs).toBe(0);
    expect(cheap.queriesMs).toBeCloseTo(300 * cheap.embedMsPerDocument, 6);
  });

  test("durations read as seconds, minutes or hours", () => {
    expect(humanDuration(45_000)).toBe("45 s");
    expect(humanDuration(25 * 60_000)).toBe("25 min");
    expect(humanDuration(3 * 3_600_000)).toBe("3.0 h");
  });
});
