import fs from "node:fs";

import { jest } from "@jest/globals";
import os from "node:os";
import path from "node:path";

import type { FeatureExtractionPipeline } from "@xenova/transformers";

import {
  CrossEncoderCompressor,
  EMBEDDING_PROFILES,
  InvalidArgumentError,
  ModelLoadError,
  RERANKER_PROFILES,
  TransformersEmbeddings,
} from "../src/index.js";
import { positionLimit } from "../src/models/model_config.js";
import type { KnownEmbeddingId } from "../src/index.js";
import type { RuntimeTensor } from "../src/models/types.js";
import type { CrossEncoderSequenceModel, CrossEncoderTokenizer } from "../src/models/cross_encoder_model.js";
import { fromParts } from "../src/models/cross_encoder_model.js";
import { modelInputs } from "../src/rerank/model_inputs.js";
import { padBatch } from "../src/rerank/pair_batcher.js";
import { BERT_PRESETS, type BuiltModel, buildBertModel, readOnnxInitializers } from "../src/testing/index.js";
import { bertForward } from "./support/bert_reference.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { local, offline, pretrained, runtime, transformers } from "./support/runtime.js";

runtime.env.allowRemoteModels = false;
const { Tensor } = transformers;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-profiles-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("RoBERTa-shaped cross-encoder (XLM-R family: no token_type_ids, <s> q </s></s> d </s>)", () => {
  const dir = path.join(root, "roberta-ce");
  let built: BuiltModel;
  let tokenizer: CrossEncoderTokenizer;
  let model: CrossEncoderSequenceModel & { session: { inputNames?: readonly string[] } };
  const query = "glaciers carve valleys";
  const docs = [
    "Glaciers carve U-shaped valleys as they advance and retreat.",
    "Paris",
    TEST_CORPUS.join(" "), // longer than the model's 128 tokens: cut to fit
  ];

  beforeAll(async () => {
    built = await buildBertModel(dir, {
      preset: "tiny",
      head: "classification",
      family: "roberta",
      seed: 7,
      corpus: TEST_CORPUS,
    });
    tokenizer = await runtime.loadTokenizer(local(dir), offline(false));
    model = (await runtime.loadSequenceClassifier(local(dir), offline(false))) as never;
  });
  afterAll(async () => {
    await model.dispose?.();
  });

  /** `<s> q </s></s> d </s>` from the TypeScript WordPiece tokenizer, the document cut so the pair fits 128. */
  function reference(doc: string): number[] {
    const q = built.tokenizer.encode(query);
    const d = built.tokenizer.encode(doc).slice(0, 128 - q.length - 4);
    return [0, ...q, 2, 2, ...d, 2];
  }

  test("the graph declares no token_type_ids; 130 position rows hold 128 tokens (pad_token_id 1 + 1 are skipped)", () => {
    expect(model.session.inputNames).toEqual(["input_ids", "attention_mask"]);
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    expect(config).toMatchObject({
      model_type: "xlm-roberta",
      max_position_embeddings: 130,
      pad_token_id: 1,
      type_vocab_size: 1,
    });
    expect(positionLimit(config)).toBe(128);
    expect(tokenizer.encode("faiss", "recall")).toEqual([
      0,
      ...built.tokenizer.encode("faiss"),
      2,
      2,
      ...built.tokenizer.encode("recall"),
      2,
    ]);
  });

  test("the compressor sends exactly input_ids and attention_mask, equal to a hand-assembled reference; no warning", async () => {
    const sent: Record<string, RuntimeTensor>[] = [];
    const spy = Object.assign(
      async (inputs: Record<string, RuntimeTensor>) => {
        sent.push(inputs);
        return model(inputs);
      },
      { config: model.config, session: model.session },
    );
    const warn = jest.spyOn(console, "warn");
    const reranker = new CrossEncoderCompressor({ tokenizer, sequenceModel: spy, batchSize: 2 });
    const scores = await reranker.score(query, docs);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();

    expect(sent.length).toBe(2); // 3 pairs in batches of 2
    const rows: number[][] = [];
    for (const inputs of sent) {
      expect(Object.keys(inputs).sort()).toEqual(["attention_mask", "input_ids"]);
      const [batch, width] = inputs.input_ids.dims as number[];
      const ids = Array.from(inputs.input_ids.data as BigInt64Array, Number);
      const mask = Array.from(inputs.attention_mask.data as BigInt64Array, Number);
      for (let b = 0; b < batch; b++) {
        const rowIds = ids.slice(b * width, (b + 1) * width);
        const rowMask = mask.slice(b * width, (b + 1) * width);
        const length = rowMask.indexOf(0) === -1 ? width : rowMask.indexOf(0);
        expect(rowMask.slice(length).every((m) => m === 0)).toBe(true);
        expect(rowIds.slice(length).every((id) => id === 1)).toBe(true); // padded with <pad> = 1
        rows.push(rowIds.slice(0, length));
      }
    }
    const expected = docs.map(reference);
    expect(rows.map((r) => r.join(",")).sort()).toEqual(expected.map((r) => r.join(",")).sort());
    expect(Math.max(...rows.map((r) => r.length))).toBe(128);

    // Scores equal a plain run of the model on each unpadded reference pair (sigmoid of the one logit).
    for (let i = 0; i < docs.length; i++) {
      const ids = expected[i];
      const shape = [1, ids.length];
      const out = await model({
        input_ids: new Tensor("int64", BigInt64Array.from(ids, BigInt), shape),
        attention_mask: new Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape),
      });
      expect(Math.abs(scores[i] - sigmoid(Number(out.logits.data[0])))).toBeLessThan(1e-5);
    }
  });

  test("loaded from its folder, the compressor reads the 128-token limit from the model and scores the same", async () => {
    const reranker = new CrossEncoderCompressor({ model: dir, quantized: false });
    const { batches } = await reranker.encodeBatches(query, docs);
    expect(Math.max(...batches.map((b) => b.columns))).toBe(128);
    const injected = new CrossEncoderCompressor({ tokenizer, sequenceModel: model });
    const [a, b] = [await reranker.score(query, docs), await injected.score(query, docs)];
    a.forEach((score, i) => expect(Math.abs(score - b[i])).toBeLessThan(1e-6));
    await expect(
      new CrossEncoderCompressor({ model: dir, quantized: false, maxLength: 129 }).score(query, docs),
    ).rejects.toThrow(/maxLength 129 exceeds the model's maximum of 128 tokens/);
    await reranker.dispose();
  });
});

describe("model inputs and limits", () => {
  const batch = padBatch(
    [
      { owner: 0, ids: [2, 10, 3, 11, 3], segmentB: 3 },
      { owner: 1, ids: [2, 10, 3, 3], segmentB: 3 },
    ],
    0,
  );

  test("token_type_ids only when declared; zeros when the type vocabulary has one entry", () => {
    expect(
      Object.keys(modelInputs(batch, { tensor: runtime.tensor, inputNames: ["input_ids", "attention_mask"] })),
    ).toEqual(["input_ids", "attention_mask"]);
    const bert = modelInputs(batch, {
      tensor: runtime.tensor,
      inputNames: ["input_ids", "token_type_ids", "attention_mask"],
      typeVocabSize: 2,
    });
    expect(Array.from(bert.token_type_ids.data as BigInt64Array, Number)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 1, 0]);
    const oneType = modelInputs(batch, {
      tensor: runtime.tensor,
      inputNames: ["input_ids", "attention_mask", "token_type_ids"],
      typeVocabSize: 1,
    });
    expect(Array.from(oneType.token_type_ids.data as BigInt64Array, Number).every((t) => t === 0)).toBe(true);
    expect(Object.keys(modelInputs(batch, { tensor: runtime.tensor })).sort()).toEqual([
      "attention_mask",
      "input_ids",
      "token_type_ids",
    ]);
    expect(() => modelInputs(batch, { tensor: runtime.tensor, inputNames: ["input_ids", "position_ids"] })).toThrow(
      ModelLoadError,
    );
  });

  test("maximum length: RoBERTa family respects the padding offset (514 → 512); BERT uses its positions", () => {
    const tokenizer = {
      // RoBERTa's template around one-token texts: <s> a </s>, and <s> a </s></s> b </s>.
      encode: (_a: string, b?: string | null, options?: { add_special_tokens?: boolean }) =>
        options?.add_special_tokens === false ? [7] : b === undefined || b === null ? [0, 7, 2] : [0, 7, 2, 2, 7, 2],
      pad_token_id: 1,
    };
    const model = (config: object) =>
      Object.assign(async () => ({ logits: new Tensor("float32", new Float32Array(1), [1, 1]) }), { config });
    expect(
      fromParts(tokenizer, model({ model_type: "xlm-roberta", max_position_embeddings: 514, pad_token_id: 1 }), runtime)
        .maxLength,
    ).toBe(512);
    expect(
      fromParts(tokenizer, model({ model_type: "bert", max_position_embeddings: 512, pad_token_id: 0 }), runtime)
        .maxLength,
    ).toBe(512);
    expect(
      fromParts(
        { ...tokenizer, model_max_length: 256 },
        model({ model_type: "roberta", max_position_embeddings: 514 }),
        runtime,
      ).maxLength,
    ).toBe(256);
    expect(
      fromParts(
        { ...tokenizer, model_max_length: 1e30 },
        model({ model_type: "xlm-roberta", max_position_embeddings: 514, pad_token_id: 1 }),
        runtime,
      ).maxLength,
    ).toBe(512);
  });

  test("known reranker ids get activation and maximum length from their profile; explicit options win", () => {
    expect(Object.keys(RERANKER_PROFILES)).toHaveLength(9);
    const bge = new CrossEncoderCompressor({ model: "Xenova/bge-reranker-base" });
    expect(bge.profile).toMatchObject({ family: "xlm-roberta", activation: "sigmoid", maxLength: 512 });
    expect(bge.activation).toBe("sigmoid");
    expect(new CrossEncoderCompressor({ model: "Xenova/bge-reranker-base", activation: "none" }).activation).toBe(
      "none",
    );
    expect(new CrossEncoderCompressor({ model: "/models/jinaai/jina-reranker-v1-turbo-en" }).profile?.maxLength).toBe(
      8192,
    );
    const unknown = new CrossEncoderCompressor({ model: "someone/unknown-reranker" });
    expect(unknown.profile).toBeUndefined();
    expect(unknown.activation).toBeUndefined();
  });
});

describe("embedding profiles", () => {
  const shape = BERT_PRESETS.tiny;
  const dir = path.join(root, "tiny-embedding");
  let built: BuiltModel;
  let extractor: FeatureExtractionPipeline;
  let weights: ReturnType<typeof readOnnxInitializers>;

  beforeAll(async () => {
    built = await buildBertModel(dir, { preset: "tiny", head: "embedding", seed: 11, corpus: TEST_CORPUS });
    weights = readOnnxInitializers(path.join(dir, "onnx", "model.onnx"));
    extractor = (await transformers.pipeline(
      "feature-extraction",
      ...pretrained(dir, false),
    )) as FeatureExtractionPipeline;
  });
  afterAll(async () => {
    await extractor.dispose();
  });

  /** The real pipeline with its tokenizer wrapped to record every call's texts and options. */
  function spied(): {
    extractor: FeatureExtractionPipeline;
    calls: { texts: string[]; options: Record<string, unknown> }[];
  } {
    const calls: { texts: string[]; options: Record<string, unknown> }[] = [];
    const tokenizer = (texts: string[], options: Record<string, unknown>) => {
      calls.push({ texts: [...texts], options });
      return (extractor.tokenizer as unknown as (t: string[], o: object) => unknown)(texts, options);
    };
    const encode = (...args: unknown[]) => (extractor.tokenizer.encode as (...a: unknown[]) => number[])(...args);
    const wrapped = {
      tokenizer: Object.assign(tokenizer, { encode }),
      model: extractor.model,
      dispose: async () => undefined,
    };
    return { extractor: wrapped as unknown as FeatureExtractionPipeline, calls };
  }

  /** TypeScript reference: BERT forward over `[CLS] text [SEP]` (first `maxLength` tokens), pooled and normalised. */
  function referenceVector(text: string, pooling: "mean" | "cls", maxLength = 128): number[] {
    const ids = [2, ...built.tokenizer.encode(text).slice(0, maxLength - 2), 3];
    const states = bertForward(weights, shape, ids, new Array<number>(ids.length).fill(0));
    const pooled =
      pooling === "cls"
        ? states[0]
        : states[0].map((_, j) => states.reduce((sum, row) => sum + row[j], 0) / states.length);
    const norm = Math.sqrt(pooled.reduce((s, v) => s + v * v, 0));
    return pooled.map((v) => v / norm);
  }
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

  test("each profile's query prefix reaches the tokenizer for queries only, its document prefix for documents only", async () => {
    for (const id of Object.keys(EMBEDDING_PROFILES) as KnownEmbeddingId[]) {
      const facts = EMBEDDING_PROFILES[id];
      const { extractor: spy, calls } = spied();
      const embeddings = new TransformersEmbeddings({ model: id, extractor: spy });
      expect(embeddings.profile).toMatchObject({
        pooling: facts.pooling,
        queryPrefix: facts.queryPrefix,
        documentPrefix: facts.documentPrefix,
        maxLength: facts.maxLength,
        source: `profile:${id}`,
      });
      await embeddings.embedQuery("penguins in winter");
      await embeddings.embedDocuments(["Penguins huddle together.", "Glaciers carve valleys."]);
      expect(calls.map((c) => c.texts)).toEqual([
        [`${facts.queryPrefix}penguins in winter`],
        [`${facts.documentPrefix}Penguins huddle together.`, `${facts.documentPrefix}Glaciers carve valleys.`],
      ]);
      if (facts.documentPrefix) expect(calls[0].texts[0].includes(facts.documentPrefix)).toBe(false);
      if (facts.queryPrefix) expect(calls[1].texts.some((t) => t.includes(facts.queryPrefix))).toBe(false);
      // Truncated at the profile's maximum; padded only to the batch's longest row (never to the maximum).
      for (const c of calls) {
        expect(c.options.truncation).toBe(true);
        expect(c.options.max_length).toBeLessThanOrEqual(facts.maxLength!);
        expect(c.options.max_length).toBeLessThan(64);
      }
    }
    // The prefixes the issue names, as applied:
    expect(EMBEDDING_PROFILES["Xenova/e5-small-v2"]).toMatchObject({
      queryPrefix: "query: ",
      documentPrefix: "passage: ",
    });
    expect(EMBEDDING_PROFILES["Xenova/bge-small-en-v1.5"]).toMatchObject({
      pooling: "cls",
      queryPrefix: "Represent this sentence for searching relevant passages: ",
      documentPrefix: "",
    });
    expect(EMBEDDING_PROFILES["nomic-ai/nomic-embed-text-v1.5"]).toMatchObject({
      queryPrefix: "search_query: ",
      documentPrefix: "search_document: ",
    });
  });

  test("CLS (bge) and mean (e5) pooling follow the profile, against a TypeScript reference forward pass", async () => {
    const text = "Glaciers carve U-shaped valleys";
    const bge = new TransformersEmbeddings({ model: "Xenova/bge-small-en-v1.5", extractor: spied().extractor });
    const e5 = new TransformersEmbeddings({ model: "Xenova/e5-small-v2", extractor: spied().extractor });
    const bgeQuery = await bge.embedQuery(text);
    const [e5Doc] = await e5.embedDocuments([text]);
    expect(
      maxDiff(bgeQuery, referenceVector(`Represent this sentence for searching relevant passages: ${text}`, "cls")),
    ).toBeLessThan(1e-4);
    expect(maxDiff(e5Doc, referenceVector(`passage: ${text}`, "mean"))).toBeLessThan(1e-4);
    // The two poolings really differ on this model (the test could fail).
    expect(maxDiff(referenceVector(text, "cls"), referenceVector(text, "mean"))).toBeGreaterThan(0.05);
  });

  test("explicit options override the profile; unknown models keep today's defaults", () => {
    const { extractor: spy } = spied();
    const custom = new TransformersEmbeddings({
      model: "Xenova/e5-small-v2",
      extractor: spy,
      queryPrefix: "",
      pooling: "cls",
      maxLength: 64,
    });
    expect(custom.profile).toEqual({
      pooling: "cls",
      queryPrefix: "",
      documentPrefix: "passage: ",
      normalize: true,
      maxLength: 64,
      source: "profile:Xenova/e5-small-v2+options",
    });
    expect(new TransformersEmbeddings({ model: "someone/unknown-embedder", extractor: spy }).profile).toEqual({
      pooling: "mean",
      queryPrefix: "",
      documentPrefix: "",
      normalize: true,
      maxLength: undefined,
      source: "default",
    });
    expect(() => new TransformersEmbeddings({ queryPrefix: 3 as unknown as string })).toThrow(InvalidArgumentError);
    expect(() => new TransformersEmbeddings({ maxLength: 0 })).toThrow(InvalidArgumentError);
  });

  test("a local folder's sentence-transformers files set pooling, prompts and max length", async () => {
    const stDir = path.join(root, "st-model");
    fs.cpSync(dir, stDir, { recursive: true });
    const write = (file: string, value: unknown) => {
      fs.mkdirSync(path.dirname(path.join(stDir, file)), { recursive: true });
      fs.writeFileSync(path.join(stDir, file), JSON.stringify(value));
    };
    write("modules.json", [
      { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
      { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
      { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
    ]);
    write("1_Pooling/config.json", {
      word_embedding_dimension: 32,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: false,
    });
    write("config_sentence_transformers.json", {
      prompts: { query: "query: ", document: "passage: " },
      default_prompt_name: null,
    });
    write("sentence_bert_config.json", { max_seq_length: 8, do_lower_case: false });

    const embeddings = new TransformersEmbeddings({ model: stDir, quantized: false });
    expect(embeddings.profile).toEqual({
      pooling: "cls",
      queryPrefix: "query: ",
      documentPrefix: "passage: ",
      normalize: true,
      maxLength: 8,
      source: `sentence-transformers:${stDir}`,
    });
    const text = "Glaciers carve U-shaped valleys as they advance and retreat.";
    const query = await embeddings.embedQuery(text);
    expect(maxDiff(query, referenceVector(`query: ${text}`, "cls", 8))).toBeLessThan(1e-4);
    await embeddings.dispose();

    write("1_Pooling/config.json", { pooling_mode_max_tokens: true });
    expect(() => new TransformersEmbeddings({ model: stDir })).toThrow(/selects max_tokens.*Pass `pooling: 'mean'`/);
    expect(new TransformersEmbeddings({ model: stDir, pooling: "mean" }).profile.source).toBe(
      `sentence-transformers:${stDir}+options`,
    );
  });
});
