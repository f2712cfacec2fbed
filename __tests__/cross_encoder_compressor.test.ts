import { ContextualCompressionRetriever } from "@langchain/classic/retrievers/contextual_compression";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { Document } from "@langchain/core/documents";
import { BaseRetriever } from "@langchain/core/retrievers";

import { CrossEncoderCompressor, InvalidArgumentError, ModelLoadError, TwoStageError } from "../src/index.js";
import { headTokens } from "../src/rerank/cross_encoder_compressor.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels, countingCrossEncoder } from "./support/models.js";
import { shuffled } from "./support/random.js";

const models = buildTestModels();
afterAll(() => models.cleanup());

const docs = () => TEST_CORPUS.map((text, i) => new Document({ pageContent: text, metadata: { source: `doc-${i}` } }));

describe("CrossEncoderCompressor with the lexical cross-encoder", () => {
  const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, topN: 3 });
  afterAll(() => reranker.dispose());

  test("documents containing the query terms come first, whatever the input order", async () => {
    for (const seed of [11, 12, 13, 14]) {
      const input = shuffled(docs(), seed);
      const out = await reranker.compressDocuments(input, "how do honeybees communicate with a waggle dance");
      expect(out[0].pageContent).toBe(TEST_CORPUS[13]);
      expect(out.map((d) => d.metadata.rerankRank)).toEqual([1, 2, 3]);
      expect(out[0].metadata.source).toBe("doc-13");
      expect(out[0].metadata.relevanceScore).toBeGreaterThan(out[1].metadata.relevanceScore);
    }
  });

  test("scores are real probabilities that differ across documents, never a constant 1.0", async () => {
    const scores = await reranker.score("glaciers carve valleys", TEST_CORPUS);
    expect(new Set(scores.map((s) => s.toFixed(6))).size).toBeGreaterThan(5);
    expect(scores.every((s) => s > 0 && s < 1)).toBe(true);
    expect(scores[17]).toBe(Math.max(...scores));
  });

  test("batched, length-bucketed scores equal the unbatched (batch size 1) reference within 1e-5", async () => {
    const one = new CrossEncoderCompressor({ model: models.crossEncoder, batchSize: 1 });
    const query = "carbon dioxide and oxygen";
    const texts = [...TEST_CORPUS, `${TEST_CORPUS[1]} ${TEST_CORPUS[14]} ${TEST_CORPUS[6]}`];
    const batchedReranker = new CrossEncoderCompressor({ model: models.crossEncoder, batchSize: 32 });
    const reference = await one.score(query, texts);
    const batched = await batchedReranker.score(query, texts);
    expect(one.lastStats?.batches).toBe(texts.length);
    expect(batchedReranker.lastStats?.batches).toBe(1);
    batched.forEach((s, i) => expect(Math.abs(s - reference[i])).toBeLessThan(1e-5));
    await Promise.all([one.dispose(), batchedReranker.dispose()]);
  });

  test("a quantized (int8) reranker scores one pair per call by default; fp32 ones are batched by 32", () => {
    expect(new CrossEncoderCompressor({ model: models.crossEncoder }).batchSize).toBe(1);
    expect(new CrossEncoderCompressor({ model: models.crossEncoder, quantized: false }).batchSize).toBe(32);
    expect(new CrossEncoderCompressor({ model: models.crossEncoder, batchSize: 8 }).batchSize).toBe(8);
  });

  test("rerank returns {index, relevanceScore} best first, topN and threshold applied", async () => {
    const results = await reranker.rerank(TEST_CORPUS, "Eiffel Tower Paris", { topN: 2 });
    expect(results).toHaveLength(2);
    expect(results[0].index).toBe(0);
    expect(results[0].relevanceScore).toBeGreaterThan(results[1].relevanceScore);
  });

  test("inputs are deep-equal before and after, and outputs are new objects", async () => {
    const input = docs();
    const before = structuredClone(input.map((d) => ({ pageContent: d.pageContent, metadata: d.metadata })));
    const out = await reranker.compressDocuments(input, "penguins antarctic winter");
    expect(input.map((d) => ({ pageContent: d.pageContent, metadata: d.metadata }))).toEqual(before);
    expect(input.some((d) => "relevanceScore" in d.metadata)).toBe(false);
    expect(input).not.toContain(out[0]);
  });

  test("works unchanged inside ContextualCompressionRetriever", async () => {
    class ListRetriever extends BaseRetriever {
      lc_namespace = ["tests"];
      override async _getRelevantDocuments(): Promise<Document[]> {
        return docs();
      }
    }
    const retriever = new ContextualCompressionRetriever({
      baseCompressor: reranker,
      baseRetriever: new ListRetriever(),
    });
    const out = await retriever.invoke("Gutenberg printing press literacy");
    expect(out[0].pageContent).toBe(TEST_CORPUS[18]);
    expect(out).toHaveLength(3);
  });

  test("the rerank is its own traced run with input count, output count and milliseconds", async () => {
    const events: { kind: string; name?: string; payload: Record<string, unknown> }[] = [];
    class Recorder extends BaseCallbackHandler {
      name = "recorder";
      override async handleChainStart(
        _chain: unknown,
        inputs: Record<string, unknown>,
        _runId: string,
        _parent?: string,
        _tags?: string[],
        _meta?: Record<string, unknown>,
        _type?: string,
        runName?: string,
      ) {
        events.push({ kind: "start", name: runName, payload: inputs });
      }
      override async handleChainEnd(outputs: Record<string, unknown>) {
        events.push({ kind: "end", payload: outputs });
      }
    }
    await reranker.compressDocuments(docs(), "espresso coffee", [new Recorder()]);
    expect(events[0]).toMatchObject({
      kind: "start",
      name: "CrossEncoderCompressor",
      payload: { inputCount: TEST_CORPUS.length },
    });
    expect(events[1]).toMatchObject({ kind: "end", payload: { inputCount: TEST_CORPUS.length, outputCount: 3 } });
    expect(typeof events[1].payload.ms).toBe("number");
  });
});

describe("long documents", () => {
  const filler = TEST_CORPUS.slice(0, 8).join(" ");
  const longDoc = `${filler} ${filler} Sourdough bread rises thanks to wild yeast in the starter.`;
  const query = "sourdough wild yeast";

  test("maxPassage finds a relevant passage beyond the truncation point that truncate misses", async () => {
    const truncate = new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 48 });
    const passages = new CrossEncoderCompressor({
      model: models.crossEncoder,
      maxLength: 48,
      longDocuments: "maxPassage",
    });
    const distractor = TEST_CORPUS[19];
    const [cut, other] = await truncate.score(query, [longDoc, distractor]);
    const [windowed, other2] = await passages.score(query, [longDoc, distractor]);
    expect(cut).toBeLessThan(0.05); // the start of the document says nothing about sourdough
    expect(windowed).toBeGreaterThan(0.9);
    expect(windowed).toBeGreaterThan(other2);
    expect(other2).toBeCloseTo(other, 6);
    expect(passages.lastStats!.pairs).toBeGreaterThan(2);
    await Promise.all([truncate.dispose(), passages.dispose()]);
  });
});

describe("threshold, dedupe and cache", () => {
  test("scoreThreshold drops documents below it", async () => {
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, topN: 10, scoreThreshold: 0.5 });
    const out = await reranker.compressDocuments(docs(), "lithium-ion batteries intercalation");
    expect(out.length).toBeGreaterThanOrEqual(1);
    expect(out.length).toBeLessThan(10);
    expect(out.every((d) => d.metadata.relevanceScore >= 0.5)).toBe(true);
    await reranker.dispose();
  });

  test("identical pageContent or equal metadata.id are scored once and returned once", async () => {
    const counting = await countingCrossEncoder(models.crossEncoder);
    const reranker = new CrossEncoderCompressor({
      tokenizer: counting.tokenizer,
      sequenceModel: counting.sequenceModel,
      topN: 10,
    });
    const input = [
      new Document({ pageContent: TEST_CORPUS[9], metadata: { id: "a" } }),
      new Document({ pageContent: TEST_CORPUS[9], metadata: { id: "a" } }),
      new Document({ pageContent: `${TEST_CORPUS[9]} (copy)`, metadata: { id: "a" } }),
      new Document({ pageContent: TEST_CORPUS[10] }),
      new Document({ pageContent: TEST_CORPUS[10] }),
    ];
    const out = await reranker.compressDocuments(input, "Jupiter red spot storm");
    expect(out).toHaveLength(2);
    expect(counting.rows()).toBe(2);
    const all = await new CrossEncoderCompressor({ ...counting, dedupe: false, topN: 10 }).compressDocuments(
      input,
      "Jupiter",
    );
    expect(all).toHaveLength(5);
  });

  test("the LRU cache serves repeated (query, document) pairs without calling the model", async () => {
    const counting = await countingCrossEncoder(models.crossEncoder);
    const reranker = new CrossEncoderCompressor({ ...counting, cacheSize: 100, batchSize: 32 });
    const first = await reranker.score("origami paper cranes", TEST_CORPUS);
    const callsAfterFirst = counting.calls();
    const second = await reranker.score("origami paper cranes", TEST_CORPUS);
    expect(callsAfterFirst).toBeGreaterThan(0);
    expect(counting.calls()).toBe(callsAfterFirst);
    expect(reranker.lastStats?.cacheHits).toBe(TEST_CORPUS.length);
    expect(second).toEqual(first);
    await reranker.score("a different query", TEST_CORPUS.slice(0, 2));
    expect(counting.calls()).toBe(callsAfterFirst + 1);
  });
});

describe("heads and activations", () => {
  test("a 2-label model ranks by the positive class (softmax of label 1 = sigmoid of the 1-label logit)", async () => {
    const one = new CrossEncoderCompressor({ model: models.crossEncoder });
    const two = new CrossEncoderCompressor({ model: models.crossEncoder2 });
    const query = "volcanic eruptions cool the climate";
    const a = await one.score(query, TEST_CORPUS);
    const b = await two.score(query, TEST_CORPUS);
    b.forEach((s, i) => expect(s).toBeCloseTo(a[i], 5));
    expect(b.indexOf(Math.max(...b))).toBe(6);
    await Promise.all([one.dispose(), two.dispose()]);
  });

  test("activation 'none' returns raw logits; a mismatching explicit activation is refused", async () => {
    const raw = new CrossEncoderCompressor({ model: models.crossEncoder, activation: "none" });
    const [logit] = await raw.score("Rosetta Stone hieroglyphs", [TEST_CORPUS[5]]);
    expect(logit).toBeGreaterThan(1);
    const softmaxOnOne = new CrossEncoderCompressor({ model: models.crossEncoder, activation: "softmax" });
    await expect(softmaxOnOne.score("q", ["d"])).rejects.toThrow(/single logit: softmax over one value is always 1.0/);
    const sigmoidOnTwo = new CrossEncoderCompressor({ model: models.crossEncoder2, activation: "sigmoid" });
    await expect(sigmoidOnTwo.score("q", ["d"])).rejects.toThrow(InvalidArgumentError);
    await raw.dispose();
  });

  test("a bi-encoder passed as the reranker: no classification head, looks like an embedding model, pass a cross-encoder", async () => {
    for (const inferenceWorker of [true, false]) {
      const wrong = new CrossEncoderCompressor({ model: models.biEncoder, inferenceWorker });
      const error = await wrong.score("honeybees", ["Honeybees dance."]).catch((e: unknown) => e);
      expect(ModelLoadError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /has no classification head \(its config\.json names BertModel\): it looks like an embedding \(bi-encoder\) model.*Pass a cross-encoder as the reranker, e\.g\. Xenova\/ms-marco-MiniLM-L-6-v2/,
      );
      await wrong.dispose();
    }
  });
});

describe("concurrency", () => {
  test("many concurrent calls share one model and each gets its own correct answer", async () => {
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, topN: 1 });
    const targets = [0, 2, 5, 9, 13, 16, 18, 22];
    const queries = targets.map((i) => TEST_CORPUS[i].split(" ").slice(1, 6).join(" "));
    const results = await Promise.all(queries.map((q) => reranker.compressDocuments(docs(), q)));
    results.forEach((out, k) => expect(out[0].pageContent).toBe(TEST_CORPUS[targets[k]]));
    await reranker.dispose();
  });
});

describe("bad input", () => {
  test.each([
    [{ topN: 0 }, /topN must be a positive integer; got 0/],
    [{ topN: 1.5 }, /topN must be a positive integer; got 1.5/],
    [{ batchSize: -2 }, /batchSize must be a positive integer; got -2/],
    [{ maxLength: 0 }, /maxLength must be a positive integer/],
    [{ scoreThreshold: 2 }, /scoreThreshold 2 is outside \[0, 1\]/],
    [{ longDocuments: "chunks" as "truncate" }, /Unknown longDocuments 'chunks'/],
    [{ activation: "relu" as "none" }, /Unknown activation 'relu'/],
  ])("constructor refuses %p", (params, message) => {
    expect(() => new CrossEncoderCompressor(params)).toThrow(message);
    try {
      new CrossEncoderCompressor(params);
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(TwoStageError.isInstance(error)).toBe(true);
    }
  });

  test("a raw-logit threshold outside [0, 1] is fine with activation 'none'", () => {
    expect(() => new CrossEncoderCompressor({ activation: "none", scoreThreshold: -3 })).not.toThrow();
  });

  test("a document whose pageContent is not a string is named by index; an empty query is refused", async () => {
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
    const bad = [new Document({ pageContent: "ok" }), { pageContent: 42, metadata: {} } as unknown as Document];
    await expect(reranker.compressDocuments(bad, "q")).rejects.toThrow(/documents\[1\]\.pageContent is number/);
    await expect(reranker.compressDocuments(docs(), "   ")).rejects.toThrow(/query must be a non-empty string/);
  });

  test("empty documents return [] without loading the model", async () => {
    const unloadable = new CrossEncoderCompressor({ model: "Xenova/does-not-exist", offline: true });
    await expect(unloadable.compressDocuments([], "anything")).resolves.toEqual([]);
  });

  test("a hub id while offline explains local paths; a directory missing a file names it", async () => {
    const offline = new CrossEncoderCompressor({ model: "Xenova/ms-marco-MiniLM-L-6-v2", offline: true });
    await expect(offline.score("q", ["d"])).rejects.toThrow(
      /not a local directory.*Pass the path of a downloaded model directory/s,
    );
    await expect(offline.score("q", ["d"])).rejects.toThrow(ModelLoadError);
    const fs = await import("node:fs");
    const path = await import("node:path");
    const broken = path.join(models.root, "broken");
    fs.cpSync(models.crossEncoder, broken, { recursive: true });
    fs.rmSync(path.join(broken, "onnx", "model_quantized.onnx"));
    const missing = new CrossEncoderCompressor({ model: broken });
    await expect(missing.score("q", ["d"])).rejects.toThrow(/has no onnx\/model_quantized\.onnx.*quantized: false/s);
  });
});

describe("token-level truncation", () => {
  test("tokenizing only a document's head gives exactly the first tokens of the whole document", async () => {
    const { tokenizer } = await countingCrossEncoder(models.crossEncoder);
    const long = TEST_CORPUS.join("\n").repeat(3);
    const full = tokenizer.encode(long, null, { add_special_tokens: false });
    for (const budget of [5, 17, 60, 200]) {
      expect(headTokens(tokenizer, long, budget)).toEqual(full.slice(0, budget));
    }
    expect(headTokens(tokenizer, "short text", 50)).toEqual(
      tokenizer.encode("short text", null, { add_special_tokens: false }),
    );
  });
});
