// The child runs of a retrieval end with what they did, read by a real callback handler: the `recall` run's ids and
// stage-1 scores, the `rerank` run's final ranks, scores and moves, each reranker's and cascade stage's ranking —
// ids and numbers only, bounded in size, never the documents' text.
import { createHash } from "node:crypto";

import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { Document } from "@langchain/core/documents";

import {
  Bm25Index,
  CascadeCompressor,
  CrossEncoderCompressor,
  type RecallSource,
  TwoStageRetriever,
  type TracedRank,
} from "../src/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

const models = buildTestModels();
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
const second = new CrossEncoderCompressor({ model: models.crossEncoder2 });
afterAll(async () => {
  await Promise.all([reranker.dispose(), second.dispose()]);
  models.cleanup();
});

// Every other document has an id; the rest are named by the hash of their text.
const DOCS = TEST_CORPUS.map(
  (text, i) => new Document({ pageContent: text, ...(i % 2 === 0 ? { id: `doc-${i}` } : {}), metadata: { n: i } }),
);
const QUERY =
  "honeybees waggle dance flowers Paris sunlight FAISS reranker marathon Rosetta volcanic sourdough mitochondria Jupiter penguins treaty";

/** Records every chain run's name and the outputs it ended with. */
class TraceRecorder extends BaseCallbackHandler {
  name = "trace-recorder";
  readonly names = new Map<string, string>();
  readonly outputs: { name: string; outputs: Record<string, unknown> }[] = [];
  retrieved?: unknown[];

  override async handleChainStart(
    _chain: unknown,
    _inputs: unknown,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    _metadata?: unknown,
    _runType?: string,
    runName?: string,
  ): Promise<void> {
    this.names.set(runId, runName ?? "?");
  }

  override async handleChainEnd(outputs: Record<string, unknown>, runId: string): Promise<void> {
    this.outputs.push({ name: this.names.get(runId) ?? "?", outputs });
  }

  override async handleRetrieverEnd(documents: unknown[]): Promise<void> {
    this.retrieved = documents;
  }

  of(name: string): Record<string, unknown> {
    const found = this.outputs.filter((run) => run.name === name);
    expect(found).toHaveLength(1);
    return found[0].outputs;
  }
}

const hashId = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
const idOf = (doc: Document) => doc.id ?? hashId(doc.pageContent);
const six = (x: number) => Number(x.toPrecision(6));

async function bm25(docs: Document[] = DOCS): Promise<Bm25Index> {
  const index = new Bm25Index();
  await index.addDocuments(docs);
  return index;
}

/** BM25 over {@link DOCS}, returning the odd documents without an id (a BM25 index gives every document one). */
async function partlyAnonymous(): Promise<RecallSource> {
  const index = await bm25();
  return {
    name: "bm25",
    scoreKind: "bm25",
    async recall(query, k, filter) {
      return (await index.recall(query, k, filter)).map((candidate) => ({
        ...candidate,
        document:
          (candidate.document.metadata.n as number) % 2 === 1
            ? new Document({ pageContent: candidate.document.pageContent, metadata: candidate.document.metadata })
            : candidate.document,
      }));
    },
  };
}

describe("what the recall and rerank runs end with", () => {
  test("ids, stage-1 rank and score, final rank and score, moves — matching what invoke returns", async () => {
    const retriever = new TwoStageRetriever({
      stage1: await partlyAnonymous(),
      compressor: reranker,
      recallK: 12,
      topK: 4,
    });
    const recorder = new TraceRecorder();
    const docs = await retriever.invoke(QUERY, { callbacks: [recorder] });
    const explanation = await retriever.explain(QUERY);

    const recall = recorder.of("recall");
    expect(recall).toMatchObject({ candidates: 12, source: "bm25", scoreKind: "bm25" });
    expect(recall.ranked).toEqual(
      explanation.candidates.map((c) => ({ rank: c.recallRank, id: idOf(c.document), score: six(c.recallScore) })),
    );

    const rerank = recorder.of("rerank");
    expect(rerank).toMatchObject({ returned: 4, reranked: true });
    const ranked = rerank.ranked as TracedRank[];
    expect(ranked.slice(0, 4)).toEqual(
      docs.map((doc) => ({
        rank: doc.metadata.rerankRank,
        id: idOf(doc as Document),
        inputRank: doc.metadata.recallRank,
        inputScore: six(doc.metadata.recallScore),
        score: six(doc.metadata.relevanceScore!),
        move: doc.metadata.recallRank - doc.metadata.rerankRank!,
      })),
    );
    // Every candidate is accounted for, kept or dropped; the reranker moved some of them.
    expect(ranked.length + (rerank.dropped as unknown[]).length).toBe(12);
    expect(ranked.some((entry) => entry.move !== 0)).toBe(true);
    expect(ranked.some((entry) => entry.id.startsWith("sha256:"))).toBe(true);
    // The reranker's own run shows the same ranking (its input order is stage-1 order).
    expect((recorder.of("CrossEncoderCompressor").ranked as TracedRank[]).map((e) => [e.id, e.rank])).toEqual(
      ranked.map((e) => [e.id, e.rank]),
    );
    // Ids and numbers only: no document text anywhere in the run outputs.
    const json = JSON.stringify(recorder.outputs);
    for (const doc of DOCS) expect(json).not.toContain(doc.pageContent.slice(0, 30));
    expect(recorder.retrieved).toHaveLength(4);
  });

  test("bounded: 300 long documents and recallK 300 give at most 50 entries per list and a few kB", async () => {
    const many = Array.from(
      { length: 300 },
      (_, i) =>
        new Document({
          pageContent: `${TEST_CORPUS[i % TEST_CORPUS.length]} ${"filler words about honeybees ".repeat(200)} #${i}`,
          metadata: { id: `long-document-${i}` },
        }),
    );
    const retriever = new TwoStageRetriever({
      stage1: await bm25(many),
      compressor: reranker,
      recallK: 300,
      topK: 5,
    });
    const recorder = new TraceRecorder();
    await retriever.invoke("honeybees waggle dance", { callbacks: [recorder] });
    const recall = recorder.of("recall");
    expect(recall.ranked).toHaveLength(50);
    expect(recall.omitted).toBe(250);
    const rerank = recorder.of("rerank");
    expect((rerank.ranked as unknown[]).length).toBeLessThanOrEqual(50);
    expect(rerank.omitted).toBe(300 - (rerank.ranked as unknown[]).length - (rerank.dropped as unknown[]).length);
    for (const name of ["recall", "rerank", "CrossEncoderCompressor"]) {
      expect(JSON.stringify(recorder.of(name)).length).toBeLessThan(8_000); // the documents are ~1.8 MB
    }
  });

  test("a cascade: each stage's run shows its ranking of what the stage before kept", async () => {
    const cascade = new CascadeCompressor({
      stages: [{ reranker, keep: 5 }, { reranker: second }],
      topN: 3,
    });
    const retriever = new TwoStageRetriever({ stage1: await bm25(), compressor: cascade, recallK: 12, topK: 3 });
    const recorder = new TraceRecorder();
    const docs = await retriever.invoke(QUERY, { callbacks: [recorder] });
    const first = recorder.of("cascade stage 1");
    const last = recorder.of("cascade stage 2");
    expect(first).toMatchObject({ inputCount: 12, readCount: 12, keptCount: 5 });
    expect(last).toMatchObject({ inputCount: 5, readCount: 5 });
    const firstRanked = first.ranked as TracedRank[];
    const lastRanked = last.ranked as TracedRank[];
    // Stage 2 read stage 1's best five, in stage 1's order: its inputRank is their stage-1 rank.
    expect(lastRanked.map((e) => [e.inputRank, e.id]).sort()).toEqual(
      firstRanked
        .slice(0, 5)
        .map((e) => [e.rank, e.id])
        .sort(),
    );
    expect(lastRanked.slice(0, 3).map((e) => e.id)).toEqual(docs.map((doc) => idOf(doc as Document)));
    expect(lastRanked.slice(0, 3).map((e) => e.score)).toEqual(docs.map((doc) => six(doc.metadata.relevanceScore!)));
    const whole = recorder.of("CascadeCompressor");
    expect((whole.dropped as { reason: string }[]).filter((d) => d.reason === "cascadeCut")).toHaveLength(7);
  });

  test("a fallback shows stage-1 order, no scores, no moves, and why", async () => {
    const broken = Object.assign(Object.create(reranker) as CrossEncoderCompressor, {
      rankCandidates: () => Promise.reject(new Error("model crashed")),
    });
    const retriever = new TwoStageRetriever({
      stage1: await bm25(),
      compressor: broken,
      recallK: 12,
      topK: 3,
      onRerankError: "fallback",
    });
    const recorder = new TraceRecorder();
    await retriever.invoke(QUERY, { callbacks: [recorder] });
    const rerank = recorder.of("rerank");
    expect(rerank).toMatchObject({ returned: 3, reranked: false, fallback: "rerank failed: model crashed" });
    expect((rerank.ranked as TracedRank[]).map((e) => [e.rank, e.inputRank, e.score, e.move])).toEqual([
      [1, 1, null, 0],
      [2, 2, null, 0],
      [3, 3, null, 0],
    ]);
  });
});
