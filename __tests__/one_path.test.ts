import { Document } from "@langchain/core/documents";

import {
  CrossEncoderCompressor,
  FaissVectorStore,
  type RecallCandidate,
  type RecallSource,
  TransformersEmbeddings,
  TwoStageRetriever,
  evaluate,
} from "../src/index.js";
import type { BeirDataset } from "../src/eval/beir_dataset.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

// Duplicates for dedupe: the same text under another id, and another text under an existing metadata.id.
const DOCS = [
  ...TEST_CORPUS.map((text, i) => new Document({ pageContent: text, metadata: { n: i } })),
  ...TEST_CORPUS.slice(0, 8).map((text, i) => new Document({ pageContent: text, metadata: { n: 100 + i } })),
  ...TEST_CORPUS.slice(8, 16).map(
    (text, i) => new Document({ pageContent: `${text} (second copy)`, metadata: { n: 200 + i, id: `same-${i}` } }),
  ),
  ...TEST_CORPUS.slice(8, 16).map(
    (text, i) => new Document({ pageContent: `${text} (first copy)`, metadata: { n: 300 + i, id: `same-${i}` } }),
  ),
];
const QUERIES = TEST_CORPUS.map((text) =>
  text
    .split(/\s+/)
    .filter((w) => w.length > 5)
    .slice(0, 3)
    .join(" "),
).filter((q) => q.trim() !== "");

const models = buildTestModels([...TEST_CORPUS, ...DOCS.map((d) => d.pageContent)]);
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, scoreThreshold: 0.5, dedupe: true });
afterAll(async () => {
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
  models.cleanup();
});

describe("one ranking path", () => {
  test("explain marks returned exactly what invoke returns, with dedupe and a score threshold on", async () => {
    const store = await FaissVectorStore.fromDocuments(DOCS, embeddings);
    const retriever = new TwoStageRetriever({ vectorStore: store, compressor: reranker, recallK: 30, topK: 5 });
    const seen = { duplicate: 0, belowThreshold: 0, returned: 0 };
    for (const query of QUERIES) {
      const explanation = await retriever.explain(query);
      const docs = await retriever.invoke(query);
      const returned = explanation.candidates
        .filter((c) => c.returned)
        .sort((a, b) => a.rerankRank! - b.rerankRank!)
        .map((c) => c.document.metadata.n);
      expect(returned).toEqual(docs.map((d) => d.metadata.n));
      expect(explanation.documents.map((d) => d.metadata)).toEqual(docs.map((d) => d.metadata));
      for (const c of explanation.candidates) {
        if (c.dropped) seen[c.dropped as "duplicate" | "belowThreshold"] += 1;
        if (c.returned) {
          seen.returned += 1;
          expect(c.dropped).toBeUndefined();
          expect(c.relevanceScore).toBeGreaterThanOrEqual(0.5);
        }
      }
    }
    // The queries really exercised both rules.
    expect(seen.duplicate).toBeGreaterThan(10);
    expect(seen.belowThreshold).toBeGreaterThan(10);
    expect(seen.returned).toBeGreaterThan(QUERIES.length);
  });

  test("evaluate times stage 1 at each recallK: a source whose cost grows with k shows it", async () => {
    const store = await FaissVectorStore.fromDocuments(DOCS.slice(0, TEST_CORPUS.length), embeddings);
    const inner = new TwoStageRetriever({ vectorStore: store, compressor: reranker }).source;
    const slow: RecallSource = {
      name: "slow",
      scoreKind: "cosine",
      async recall(query, k, filter): Promise<RecallCandidate[]> {
        await new Promise((resolve) => setTimeout(resolve, 4 * k));
        return inner.recall(query, k, filter);
      },
    };
    const retriever = new TwoStageRetriever({ stage1: slow, compressor: reranker, recallK: 20, topK: 2 });
    const dataset: BeirDataset = {
      name: "tiny",
      corpus: TEST_CORPUS.map((text, i) => ({ id: `d${i}`, title: "", text })),
      queries: QUERIES.slice(0, 4).map((text, i) => ({ id: `q${i}`, text })),
      qrels: new Map(QUERIES.slice(0, 4).map((_, i) => [`q${i}`, new Map([[String(i), 1]])])),
      unknownDocumentJudgments: 0,
      unknownQueryJudgments: 0,
    };
    const report = await evaluate(retriever, dataset, { recallKs: [2, 20], topK: 2, idField: "n" });
    const [small, large] = report.results;
    expect(small.recallP50Ms).toBeGreaterThanOrEqual(8);
    expect(large.recallP50Ms).toBeGreaterThanOrEqual(80);
    expect(large.recallP50Ms).toBeGreaterThan(small.recallP50Ms + 40);
    expect(report.recommendation.latencyP50Ms).toBeCloseTo(
      report.results.find((r) => r.recallK === report.recommendation.recallK)!.recallP50Ms +
        report.results.find((r) => r.recallK === report.recommendation.recallK)!.rerankP50Ms,
      6,
    );
  });
});
