import { ContextualCompressionRetriever } from "@langchain/classic/retrievers/contextual_compression";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseRetriever } from "@langchain/core/retrievers";
import type { RuntimeTensor as Tensor } from "../src/models/types.js";

import {
  CascadeCompressor,
  CostEstimator,
  CrossEncoderCompressor,
  InvalidArgumentError,
  TokenCache,
  TwoStageRetriever,
  withTokenCache,
} from "../src/index.js";
import { local, offline, runtime } from "./support/runtime.js";
import type { RecallSource } from "../src/recall/recall_source.js";
import type { CrossEncoderTokenizer } from "../src/models/cross_encoder_model.js";
import { encodeText, tokenizerFingerprint } from "../src/rerank/token_cache.js";
import { buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels, countingCrossEncoder } from "./support/models.js";
import { RunRecorder } from "./support/run_recorder.js";

const models = buildTestModels();
const otherVocabulary = `${models.root}/other-vocabulary`;
buildLexicalCrossEncoder(otherVocabulary, { corpus: ["an entirely different corpus of words", "zebra quartz"] });
afterAll(() => models.cleanup());

const QUERY = "carbon dioxide oxygen climate glucose";
const docs = () => TEST_CORPUS.map((text, i) => new Document({ pageContent: text, metadata: { n: i } }));

/** A deliberately weaker first stage: the same lexical model reading only the first few tokens of each pair. */
const weak = () => new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 12 });
const strong = () => new CrossEncoderCompressor({ model: models.crossEncoder });

async function loadTokenizer(dir: string): Promise<CrossEncoderTokenizer> {
  return runtime.loadTokenizer(local(dir), offline());
}

describe("CascadeCompressor", () => {
  test("the first stage keeps its best `keep`, the last orders them; scores, ranks and cuts are each stage's own", async () => {
    const first = weak();
    const last = strong();
    const cascade = new CascadeCompressor({ stages: [{ reranker: first, keep: 6 }, { reranker: last }], topN: 4 });
    const input = docs();
    const firstScores = await first.score(QUERY, TEST_CORPUS);
    const lastScores = await last.score(QUERY, TEST_CORPUS);
    const kept = TEST_CORPUS.map((_, i) => i)
      .sort((a, b) => firstScores[b] - firstScores[a] || a - b)
      .slice(0, 6);
    const expected = [...kept].sort((a, b) => lastScores[b] - lastScores[a] || a - b);

    const ranking = await cascade.rankCandidates(input, QUERY);
    expect(ranking.order).toEqual(expected);
    expect(ranking.dropped.filter((d) => d === "cascadeCut")).toHaveLength(TEST_CORPUS.length - 6);
    kept.forEach((i) => expect(ranking.dropped[i]).toBeUndefined());
    expect(ranking.stages?.map((s) => s.model)).toEqual([models.crossEncoder, models.crossEncoder]);
    ranking.stages![0].scores.forEach((s, i) => expect(s).toBeCloseTo(firstScores[i], 6));
    expected.forEach((i, r) => {
      expect(ranking.scores[i]).toBeCloseTo(lastScores[i], 6);
      expect(ranking.stages![1].ranks[i]).toBe(r + 1);
    });
    TEST_CORPUS.forEach((_, i) => {
      if (!kept.includes(i)) expect(Number.isNaN(ranking.scores[i])).toBe(true);
    });
    // The weaker stage really is weaker here: the cascade's order differs from what it would give alone.
    expect(kept).not.toEqual(expected);

    const out = await cascade.compressDocuments(input, QUERY);
    expect(out.map((d) => d.metadata.n)).toEqual(expected.slice(0, 4));
    expect(out[0].metadata.relevanceScore).toBeCloseTo(lastScores[expected[0]], 6);
    expect(out[0].metadata.rerankStages).toEqual([
      {
        model: models.crossEncoder,
        score: expect.closeTo(firstScores[expected[0]], 6),
        rank: kept.indexOf(expected[0]) + 1,
      },
      { model: models.crossEncoder, score: expect.closeTo(lastScores[expected[0]], 6), rank: 1 },
    ]);
    expect(input[0].metadata).toEqual({ n: 0 }); // inputs untouched
    await cascade.dispose();
  });

  test("keep >= candidates gives exactly the last stage's ranking; keep is raised to the documents requested", async () => {
    const last = strong();
    const cascade = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 100 }, { reranker: last }] });
    const alone = await last.rankCandidates(docs(), QUERY);
    expect((await cascade.rankCandidates(docs(), QUERY)).order).toEqual(alone.order);
    const narrow = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 2 }, { reranker: last }] });
    expect((await narrow.rankCandidates(docs(), QUERY, undefined, 5)).order).toHaveLength(5);
    expect((await narrow.rankCandidates(docs(), QUERY, undefined, 1)).order).toHaveLength(2);
    await Promise.all([cascade.dispose(), narrow.dispose()]);
  });

  test("rankScored(scoreDocuments) orders as rankCandidates; bad arguments are refused by name", async () => {
    const cascade = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 5 }, { reranker: strong() }] });
    const scores = await cascade.scoreDocuments(docs(), QUERY);
    expect(cascade.rankScored(docs(), scores).order).toEqual((await cascade.rankCandidates(docs(), QUERY)).order);
    expect(await cascade.compressDocuments([], QUERY)).toEqual([]);
    expect(() => new CascadeCompressor({ stages: [] })).toThrow(InvalidArgumentError);
    expect(() => new CascadeCompressor({ stages: [{ reranker: weak(), keep: 0 }, { reranker: strong() }] })).toThrow(
      /stages\[0\]\.keep must be a positive integer; got 0/,
    );
    expect(() => new CascadeCompressor({ stages: [{ reranker: {} as CrossEncoderCompressor }] })).toThrow(
      /stages\[0\]\.reranker .*expected a CrossEncoderCompressor/,
    );
    await expect(cascade.rankCandidates(docs(), " ")).rejects.toThrow(InvalidArgumentError);
    await cascade.dispose();
  });

  test("one child run per stage, with its milliseconds", async () => {
    const cascade = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 5 }, { reranker: strong() }] });
    const recorder = new RunRecorder();
    const { names, ends } = recorder;
    await cascade.compressDocuments(docs(), QUERY, [recorder]);
    expect(names).toEqual(["CascadeCompressor", "cascade stage 1", "cascade stage 2"]);
    expect(ends[0]).toMatchObject({ inputCount: 24, readCount: 24, keptCount: 5, ms: expect.any(Number) });
    expect(ends[1]).toMatchObject({ inputCount: 5, readCount: 5, ms: expect.any(Number) });
    expect(ends[2]).toMatchObject({ inputCount: 24, ms: expect.any(Number) });
    await cascade.dispose();
  });

  test("works as a plain compressor in ContextualCompressionRetriever", async () => {
    class ListRetriever extends BaseRetriever {
      override lc_namespace = ["test"];
      override async _getRelevantDocuments(): Promise<DocumentInterface[]> {
        return docs();
      }
    }
    const cascade = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 8 }, { reranker: strong() }], topN: 2 });
    const retriever = new ContextualCompressionRetriever({
      baseCompressor: cascade,
      baseRetriever: new ListRetriever(),
    });
    const out = await retriever.invoke("honeybees waggle dance flowers");
    expect(out.map((d) => d.metadata.n)).toEqual([13, expect.any(Number)]);
    expect(out[0].metadata.rerankStages).toHaveLength(2);
    await cascade.dispose();
  });

  test("TwoStageRetriever.explain shows every stage; cut candidates are dropped as cascadeCut", async () => {
    const source = listSource();
    const cascade = new CascadeCompressor({ stages: [{ reranker: weak(), keep: 6 }, { reranker: strong() }] });
    const retriever = new TwoStageRetriever({ stage1: source, compressor: cascade, recallK: 24, topK: 3 });
    const explanation = await retriever.explain(QUERY);
    const invoked = await retriever.invoke(QUERY);
    expect(explanation.documents.map((d) => d.pageContent)).toEqual(invoked.map((d) => d.pageContent));
    expect(invoked.every((d) => d.metadata.reranked === true)).toBe(true);
    const returned = explanation.candidates.filter((c) => c.returned);
    expect(returned).toHaveLength(3);
    returned.forEach((c) => expect(c.stages?.map((s) => s.rank)).toHaveLength(2));
    const cut = explanation.candidates.filter((c) => c.dropped === "cascadeCut");
    expect(cut).toHaveLength(18);
    cut.forEach((c) => {
      expect(c.stages).toHaveLength(1);
      expect(c.stages![0].rank).toBeGreaterThan(6);
      expect(c.relevanceScore).toBeUndefined();
    });
    await cascade.dispose();
  });
});

describe("rerankBudgetMs", () => {
  test("the cost estimate is a running mean per token and per pair; nothing is predicted before an observation", () => {
    const estimator = new CostEstimator(0.5);
    expect(estimator.predict(100)).toBeUndefined();
    estimator.observe(1000, 100, 10); // 0.1 ms/token, 100 tokens/pair
    expect(estimator.predict(500)).toBeCloseTo(50, 10);
    expect(estimator.predictPairs(2)).toBeCloseTo(20, 10);
    estimator.observe(1000, 300, 10); // 0.3 ms/token: the mean moves halfway
    expect(estimator.msPerToken).toBeCloseTo(0.2, 10);
    estimator.observe(0, 50, 0); // nothing was run (cache hits): ignored
    expect(estimator.observations).toBe(2);
  });

  /** The lexical model, slowed to `delayMs` per model call (asynchronously: the event loop stays free). */
  async function slowReranker(delayMs: number): Promise<CrossEncoderCompressor> {
    const { tokenizer, sequenceModel } = await countingCrossEncoder(models.crossEncoder);
    const slow = Object.assign(
      async (inputs: Record<string, Tensor>) => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return sequenceModel(inputs);
      },
      { config: sequenceModel.config, dispose: () => sequenceModel.dispose?.() },
    );
    return new CrossEncoderCompressor({ tokenizer, sequenceModel: slow, batchSize: 3 });
  }

  test("reads the prefix that fits, keeps stage-1 order after the reranked ones, never a batch past the budget", async () => {
    const batchMs = 40;
    const reranker = await slowReranker(batchMs);
    const budget = 150;
    const cascade = new CascadeCompressor({ stages: [{ reranker }], rerankBudgetMs: budget, topN: 24 });
    await cascade.rankCandidates(docs().slice(0, 3), QUERY); // calibrates the cost estimate
    const started = performance.now();
    const ranking = await cascade.rankCandidates(docs(), QUERY);
    const elapsed = performance.now() - started;
    const read = ranking.reranked!.filter(Boolean).length;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(24);
    expect(ranking.reranked!.slice(0, read).every(Boolean)).toBe(true);
    expect(ranking.order.slice(read)).toEqual(Array.from({ length: 24 - read }, (_, i) => read + i));
    expect(elapsed).toBeLessThan(budget + batchMs + 40); // one batch past the budget at most (40 ms scheduling slack)

    const out = await cascade.compressDocuments(docs(), QUERY);
    const unread = out.filter((d) => d.metadata.reranked === false);
    expect(unread.length).toBeGreaterThan(0);
    unread.forEach((d) => expect(d.metadata.relevanceScore).toBeUndefined());
    expect(out.slice(0, out.length - unread.length).every((d) => typeof d.metadata.relevanceScore === "number")).toBe(
      true,
    );
    await cascade.dispose();
  });

  test("the retriever passes reranked: false through; without a budget every candidate is read", async () => {
    const reranker = await slowReranker(40);
    const source = listSource();
    const budgeted = new CascadeCompressor({ stages: [{ reranker }], rerankBudgetMs: 60 });
    await budgeted.rankCandidates(docs().slice(0, 3), QUERY);
    const retriever = new TwoStageRetriever({ stage1: source, compressor: budgeted, recallK: 24, topK: 24 });
    const out = await retriever.invoke(QUERY);
    expect(out.some((d) => d.metadata.reranked === false)).toBe(true);
    expect(out.some((d) => d.metadata.reranked === true)).toBe(true);
    const explained = await retriever.explain(QUERY);
    expect(explained.candidates.some((c) => c.reranked === false)).toBe(true);
    const unbudgeted = new CascadeCompressor({ stages: [{ reranker }] });
    expect((await unbudgeted.rankCandidates(docs(), QUERY)).reranked).toBeUndefined();
    await budgeted.dispose();
  });
});

describe("tokenizing once for every stage", () => {
  test("the fast path equals tokenizer.encode on every text, special tokens and accents included", async () => {
    const tokenizer = await loadTokenizer(models.crossEncoder);
    const texts = [
      ...TEST_CORPUS,
      "",
      "   ",
      "Café déjà vu: naïve résumé!",
      "汉字 mixed with ASCII, hyphen-ated (parenthesised) 1889",
      "a literal [SEP] and [CLS] inside the text",
      `${"supercalifragilistic".repeat(8)} long word`,
      "tabs\tand\nnewlines\u0000 and zero\u200bwidth",
    ];
    for (const text of texts) {
      expect(encodeText(tokenizer, text)).toEqual(tokenizer.encode(text, null, { add_special_tokens: false }));
    }
  });

  test("tokenizers with one vocabulary share a fingerprint (and cache entries); another vocabulary does not", async () => {
    const a = await loadTokenizer(models.crossEncoder);
    const b = await loadTokenizer(models.crossEncoder2);
    const c = await loadTokenizer(otherVocabulary);
    expect(a).not.toBe(b);
    expect(tokenizerFingerprint(a)).toBe(tokenizerFingerprint(b));
    expect(tokenizerFingerprint(a)).not.toBe(tokenizerFingerprint(c));
    const first = new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 12 });
    const second = new CrossEncoderCompressor({ model: models.crossEncoder2 });
    const cache = new TokenCache();
    const [x, y] = await withTokenCache(cache, async () => [
      await first.score(QUERY, TEST_CORPUS),
      await second.score(QUERY, TEST_CORPUS),
    ]);
    expect(cache.misses).toBe(TEST_CORPUS.length);
    expect(cache.hits).toBe(TEST_CORPUS.length);
    // Cached ids score exactly as freshly tokenized ones.
    expect(x).toEqual(await first.score(QUERY, TEST_CORPUS));
    expect(y).toEqual(await second.score(QUERY, TEST_CORPUS));
    await Promise.all([first.dispose(), second.dispose()]);
  });

  test("tokenization yields by time: a slow tokenizer never blocks the event loop for long", async () => {
    const real = await countingCrossEncoder(models.crossEncoder);
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const slowTokenizer: CrossEncoderTokenizer = {
      encode: (text, pair, options) => {
        busy(3);
        return real.tokenizer.encode(text, pair, options);
      },
      model_max_length: real.tokenizer.model_max_length,
      pad_token_id: real.tokenizer.pad_token_id,
    };
    const reranker = new CrossEncoderCompressor({ tokenizer: slowTokenizer, sequenceModel: real.sequenceModel });
    await reranker.score(QUERY, TEST_CORPUS);
    const { prepareMs, maxBlockMs } = reranker.lastStats!;
    expect(prepareMs).toBeGreaterThan(24 * 3);
    // Slices of ~5 ms: well under 20 ms on a quiet machine; a loaded one can preempt a slice, so the bound that
    // cannot flake is that no slice holds more than a third of the work (without yielding it would hold all of it).
    expect(maxBlockMs).toBeLessThan(Math.max(20, prepareMs / 3));
    await reranker.dispose();
  });
});

/** A stage 1 that returns the test documents in their order, scored by position. */
function listSource(): RecallSource {
  return {
    name: "list",
    scoreKind: "position",
    async recall(_query, k) {
      return docs()
        .slice(0, k)
        .map((document, i) => ({ document, score: 1 - i / 100 }));
    },
  };
}
