import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  Bm25Index,
  CascadeCompressor,
  CrossEncoderCompressor,
  FaissVectorStore,
  InvalidArgumentError,
  TransformersEmbeddings,
  TwoStageRetriever,
} from "../src/index.js";
import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { evaluate } from "../src/eval/evaluate.js";
import { formatTrecRun } from "../src/eval/trec_run.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { buildTestModels } from "./support/models.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-eval-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
const models = buildTestModels(TEST_CORPUS);
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });

afterAll(async () => {
  await Promise.all([embeddings.dispose(), reranker.dispose(), weak.dispose()]);
  models.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

const weak = new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 12 });
const cascade = new CascadeCompressor({ stages: [{ reranker: weak, keep: 4 }, { reranker }] });

async function retrieverFor(
  recallK: number,
  topK: number,
  compressor: CrossEncoderCompressor | CascadeCompressor = reranker,
): Promise<TwoStageRetriever> {
  const dataset = loadBeirDataset(datasetDir);
  const store = await FaissVectorStore.fromDocuments(
    dataset.corpus.map((d) => ({ pageContent: documentText(d), metadata: { docId: d.id } })),
    embeddings,
  );
  return new TwoStageRetriever({ vectorStore: store, compressor, recallK, topK });
}

describe("loadBeirDataset", () => {
  test("reads corpus, judged queries and graded judgments; counts judgments on unknown documents", () => {
    const dataset = loadBeirDataset(datasetDir);
    expect(dataset.corpus).toHaveLength(TEST_CORPUS.length);
    expect(dataset.queries.map((q) => q.id)).toEqual(["q1", "q2", "q3", "q4", "q5", "q7"]);
    expect(dataset.qrels.get("q4")).toEqual(
      new Map([
        ["doc14", 2],
        ["doc1", 1],
      ]),
    );
    expect(dataset.qrels.get("q1")?.has("doc0")).toBe(false);
    expect(dataset.unknownDocumentJudgments).toBe(1);
  });

  test("a malformed JSONL line is reported with file and line; empty inputs are refused", () => {
    const bad = path.join(root, "bad");
    writeTestDataset(bad);
    fs.appendFileSync(path.join(bad, "corpus.jsonl"), '{"_id": "x", "text": broken}\n');
    expect(() => loadBeirDataset(bad)).toThrow(new RegExp(`corpus\\.jsonl:${TEST_CORPUS.length + 1}: not valid JSON`));
    const empty = path.join(root, "empty");
    writeTestDataset(empty);
    fs.writeFileSync(path.join(empty, "corpus.jsonl"), "");
    expect(() => loadBeirDataset(empty)).toThrow(/holds no documents/);
    const unjudged = path.join(root, "unjudged");
    writeTestDataset(unjudged);
    fs.writeFileSync(path.join(unjudged, "qrels.tsv"), "query-id\tcorpus-id\tscore\nq1\tnope\t1\n");
    expect(() => loadBeirDataset(unjudged)).toThrow(/no query has a positive judgment/);
  });
});

describe("documentText: one rule, BEIR's and MTEB's", () => {
  test('title + " " + text, trimmed; the text alone without a title; a title repeated in the text stays', () => {
    expect(documentText({ id: "a", title: "Bees", text: "They dance." })).toBe("Bees They dance.");
    expect(documentText({ id: "b", title: "", text: " They dance. " })).toBe("They dance.");
    expect(documentText({ id: "c", title: "Bees", text: "" })).toBe("Bees");
    expect(documentText({ id: "d", title: "Bees", text: "Bees dance." })).toBe("Bees Bees dance.");
  });
});

describe("stage-1-only evaluation", () => {
  test("no reranker is called; each recallK's ranking is stage 1's; nDCG, recall and judgedBeyond are stage 1's", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const stage1 = await Bm25Index.fromDocuments(
      dataset.corpus.map((d) => ({ pageContent: documentText(d), metadata: { docId: d.id } })),
    );
    const calls: string[] = [];
    const spy = new CrossEncoderCompressor({ model: models.crossEncoder });
    spy.scoreDocuments = () => {
      calls.push("scoreDocuments");
      return Promise.reject(new Error("stage1Only must not score"));
    };
    const retriever = new TwoStageRetriever({ stage1, compressor: spy, recallK: 24, topK: 3 });
    const report = await evaluate(retriever, dataset, { recallKs: [1, 3, 24], topK: 3, stage1Only: true });
    expect(calls).toEqual([]);
    expect(report.stage1Only).toBe(true);
    const [k1, k3, k24] = report.results;
    // Stage 1's own order at every recallK: the stage-2 runs are stage 1's top-recallK, scores included.
    for (const r of report.results) {
      expect(r.rerankP50Ms).toBe(0);
      for (const [queryId, ranking] of report.runs.stage2.get(r.recallK)!) {
        expect(ranking).toEqual(report.runs.stage1.get(queryId)!.slice(0, r.recallK));
      }
    }
    expect(k3.ndcg).toBeCloseTo(report.stage1Ndcg, 12);
    expect(k24.ndcg).toBeCloseTo(report.stage1Ndcg, 12);
    expect(k1.recall).toBeLessThanOrEqual(k3.recall);
    expect(k3.recall).toBeLessThanOrEqual(k24.recall);
    expect(k1.judgedBeyond).toBeGreaterThanOrEqual(k3.judgedBeyond);
    expect(k3.judgedBeyond).toBeGreaterThanOrEqual(k24.judgedBeyond);
    // judgedBeyond counts the judged documents stage 1 ranked below recallK, summed over queries.
    const beyond = [...report.runs.stage1].reduce((sum, [queryId, run]) => {
      const top = new Set(run.slice(0, 3).map((e) => e.docId));
      return sum + [...dataset.qrels.get(queryId)!.keys()].filter((id) => !top.has(id)).length;
    }, 0);
    expect(k3.judgedBeyond).toBe(beyond);
    // The same stage 1 under a reranker reports the same stage-1 figures (one path).
    const full = await evaluate(
      new TwoStageRetriever({ stage1, compressor: reranker, recallK: 24, topK: 3 }),
      dataset,
      {
        recallKs: [1, 3, 24],
        topK: 3,
        latencyQueries: 0,
      },
    );
    expect(full.stage1Ndcg).toBeCloseTo(report.stage1Ndcg, 12);
    expect(full.results.map((r) => [r.recall, r.judgedBeyond])).toEqual(
      report.results.map((r) => [r.recall, r.judgedBeyond]),
    );
    await expect(
      evaluate(retriever, dataset, { recallKs: [3], topK: 3, stage1Only: true, oracleMaxCorpus: 100 }),
    ).rejects.toThrow(/stage1Only evaluates stage 1 without the reranker, but oracleMaxCorpus needs the reranker/);
  });
});

describe("explain and evaluate", () => {
  test("explain lists every stage-1 candidate with both ranks, both scores and the stage timings", async () => {
    const retriever = await retrieverFor(8, 3);
    const explanation = await retriever.explain("waggle dance of honeybees");
    expect(explanation.candidates).toHaveLength(8);
    expect(explanation.candidates.map((c) => c.recallRank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(explanation.candidates.map((c) => c.rerankRank))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(explanation.candidates.filter((c) => c.returned)).toHaveLength(3);
    const best = explanation.candidates.find((c) => c.rerankRank === 1)!;
    expect(best.document.pageContent).toBe(TEST_CORPUS[13]);
    const returned = await retriever.invoke("waggle dance of honeybees");
    expect(returned.map((d) => d.pageContent)).toEqual(
      explanation.candidates
        .filter((c) => c.returned)
        .sort((a, b) => a.rerankRank! - b.rerankRank!)
        .map((c) => c.document.pageContent),
    );
    expect(explanation.timings.recallMs).toBeGreaterThanOrEqual(0);
    expect(explanation.timings.rerankMs).toBeGreaterThan(0);
  });

  test("evaluate sweeps recallK: stage-1 recall grows with recallK, the top-K matches the retriever, oracle agreement at full depth is 1", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const retriever = await retrieverFor(24, 3);
    const report = await evaluate(retriever, dataset, { recallKs: [1, 3, 24], topK: 3, oracleMaxCorpus: 100 });
    expect(report.queries).toBe(6);
    const [k1, k3, k24] = report.results;
    expect(k1.recall).toBeLessThanOrEqual(k3.recall);
    expect(k3.recall).toBeLessThanOrEqual(k24.recall);
    expect(k24.recall).toBe(1);
    expect(k24.oracleAgreement).toBe(1);
    expect(k24.judgedBeyond).toBe(0);
    expect(k1.judgedBeyond).toBeGreaterThan(0);
    expect(report.judgedTotal).toBe(7);
    expect(report.rankHistogram.reduce((sum, b) => sum + b.count, 0)).toBe(7);
    const best = Math.max(...report.results.map((r) => r.ndcg));
    expect(report.recommendation.bestNdcg).toBe(best);
    expect(report.recommendation.recallK).toBe(report.results.find((r) => r.ndcg >= best - 0.005)!.recallK);
    // Each recallK's stage-2 ranking equals what a retriever with that recallK returns.
    await expectRunsMatchLiveRetrievers(report, dataset, [3, 24], (k) => retrieverFor(k, 3));
  });

  test("a cascade: each recallK ranks as the retriever does; keeps are swept against the last stage alone", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const retriever = await retrieverFor(24, 3, cascade);
    const report = await evaluate(retriever, dataset, { recallKs: [8, 24], topK: 3, keeps: [3, 6, 24] });
    await expectRunsMatchLiveRetrievers(report, dataset, [8, 24], (k) => retrieverFor(k, 3, cascade));
    const sweep = report.keepSweep!;
    expect(sweep.recallK).toBe(24);
    expect(sweep.results.map((r) => r.keep)).toEqual([3, 6, 24]);
    expect(sweep.full.keep).toBe(24);
    expect(sweep.full.sameTopK).toBe(1);
    const all = sweep.results[2];
    expect(all.sameTopK).toBe(1); // keeping every candidate is the full rerank
    expect(all.ndcg).toBeCloseTo(sweep.full.ndcg, 10);
    expect(sweep.results[0].sameTopK).toBeLessThanOrEqual(all.sameTopK);
    expect(sweep.full.rerankP50Ms).toBeGreaterThan(0);
    const best = Math.max(sweep.full.ndcg, ...sweep.results.map((r) => r.ndcg));
    expect(sweep.recommendation.keep).toBe(sweep.results.find((r) => r.ndcg >= best - 0.005)?.keep ?? "full");
    await expect(evaluate(await retrieverFor(8, 3), dataset, { recallKs: [8], keeps: [3] })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  test("TREC run files: qid Q0 docid rank score tag", () => {
    const text = formatTrecRun(
      new Map([
        [
          "q1",
          [
            { docId: "d7", score: 0.9 },
            { docId: "d2", score: 0.25 },
          ],
        ],
      ]),
      "my run",
    );
    expect(text).toBe("q1 Q0 d7 1 0.9 my_run\nq1 Q0 d2 2 0.25 my_run\n");
  });

  test("TREC run files keep full precision and write tied scores strictly decreasing, in ranking order", () => {
    const scores = [0.923456789012345, 0.5, 0.5, 0.5, 0, 0, -1];
    const text = formatTrecRun(new Map([["q", scores.map((score, i) => ({ docId: `d${9 - i}`, score }))]]), "t");
    const written = text
      .trim()
      .split("\n")
      .map((line) => Number(line.split(" ")[4]));
    expect(written[0]).toBe(0.923456789012345); // not rounded to 6 decimals
    // trec_eval sorts by score (ties by docno), so strictly decreasing scores reproduce the ranking exactly.
    for (let i = 1; i < written.length; i++) expect(written[i]).toBeLessThan(written[i - 1]);
    written.slice(1).forEach((w, i) => expect(Math.abs(w - scores[i + 1])).toBeLessThan(1e-12));
  });
});

/** Each recallK's stage-2 ranking in the report equals what a live retriever with that recallK returns (top 3). */
async function expectRunsMatchLiveRetrievers(
  report: Awaited<ReturnType<typeof evaluate>>,
  dataset: ReturnType<typeof loadBeirDataset>,
  recallKs: number[],
  retrieverAt: (k: number) => Promise<TwoStageRetriever>,
): Promise<void> {
  for (const k of recallKs) {
    const live = await retrieverAt(k);
    for (const query of dataset.queries) {
      const docs = await live.invoke(query.text);
      const ranked = report.runs.stage2.get(k)!.get(query.id)!;
      expect(ranked.slice(0, 3).map((e) => e.docId)).toEqual(docs.map((d) => d.metadata.docId));
    }
  }
}

describe("evaluate refuses what would silently report nonsense", () => {
  test("no stage-1 candidate carries idField: an error naming the field and the keys found, not nDCG 0 everywhere", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const stage1 = await Bm25Index.fromDocuments(
      dataset.corpus.map((d) => ({ pageContent: documentText(d), metadata: { id: d.id } })),
    );
    const retriever = new TwoStageRetriever({ stage1, compressor: reranker, recallK: 5, topK: 3 });
    await expect(evaluate(retriever, dataset, { recallKs: [5], topK: 3 })).rejects.toThrow(
      /None of the \d+ stage-1 candidates of query 'q1' carries metadata\.docId, so no judgment could match and every nDCG would be 0\. Their metadata keys: id\. .*idField/,
    );
    const report = await evaluate(retriever, dataset, { recallKs: [5], topK: 3, idField: "id", latencyQueries: 0 });
    expect(report.results[0].ndcg).toBeGreaterThan(0);
  });

  test("topK above every recallK, and a bad latencyQueries or oracleMaxCorpus, are named errors", async () => {
    const dataset = loadBeirDataset(datasetDir);
    const retriever = await retrieverFor(5, 3);
    await expect(evaluate(retriever, dataset, { recallKs: [5, 10], topK: 20 })).rejects.toThrow(
      /topK \(20\) exceeds every recallK \(the largest is 10\).*Lower topK, or sweep a recallK of at least 20/,
    );
    for (const [name, bad] of [
      ["latencyQueries", -1],
      ["latencyQueries", 1.5],
      ["oracleMaxCorpus", "100"],
      ["oracleMaxCorpus", NaN],
    ] as const) {
      await expect(evaluate(retriever, dataset, { recallKs: [5], topK: 3, [name]: bad })).rejects.toThrow(
        new RegExp(`^${name} must be a whole number ≥ 0 .*; got`),
      );
    }
  });
});
