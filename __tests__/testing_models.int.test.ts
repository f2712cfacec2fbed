import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  BERT_PRESETS,
  buildBertModel,
  buildLexicalBiEncoder,
  buildLexicalCrossEncoder,
  buildTokenizer,
  readOnnxInitializers,
} from "../src/testing/index.js";
import { bertClassify, bertForward } from "./support/bert_reference.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { shuffled } from "./support/random.js";
import { cosine } from "./support/vectors.js";
import { pretrained, transformers } from "./support/runtime.js";

// Run on the runtime the tests run on (support/runtime.ts): the models this package builds must load in both.
const { AutoModelForSequenceClassification, AutoTokenizer, env, pipeline } = transformers;

const root = fs.mkdtempSync(path.join(os.tmpdir(), "testing-models-"));
const dirOf = (name: string) => path.join(root, name);

beforeAll(() => {
  env.allowRemoteModels = false;
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** `from_pretrained` arguments of a local model directory, as the library's runtime adapter builds them. */
const localModel = (dir: string, quantized = true) => pretrained(dir, quantized);

function ids(tensor: { data: unknown }): number[] {
  return Array.from(tensor.data as BigInt64Array, Number);
}

describe("buildTokenizer", () => {
  const dir = dirOf("tokenizer");
  const texts = [
    "FAISS performs efficient similarity search.",
    "Café déjà vu: naïve résumé!",
    "Unseen words like zyxwvut get split into pieces.",
    "Numbers 1889 and 1648, hyphen-ated, (parenthesised).",
    "汉字 mixed with ASCII",
  ];

  test("transformers.js tokenizes exactly like the TypeScript WordPiece, for single texts and pairs", async () => {
    const ours = buildTokenizer(dir, { corpus: TEST_CORPUS });
    // A tokenizer-only folder: no config.json, so it is addressed relative to env.localModelPath directly.
    const theirs = await AutoTokenizer.from_pretrained(path.relative(env.localModelPath, dir));
    for (const text of texts) {
      const encoded = theirs(text);
      expect(ids(encoded.input_ids)).toEqual([2, ...ours.encode(text), 3]);
    }
    const pair = theirs("Eiffel tower", { text_pair: "completed in 1889" });
    const a = ours.encode("Eiffel tower");
    const b = ours.encode("completed in 1889");
    expect(ids(pair.input_ids)).toEqual([2, ...a, 3, ...b, 3]);
    expect(ids(pair.token_type_ids)).toEqual([...Array(a.length + 2).fill(0), ...Array(b.length + 1).fill(1)]);
  });

  test("any text tokenizes: unknown words become pieces, unknown characters [UNK]", () => {
    const tokenizer = buildTokenizer(dirOf("tokenizer-small"), { corpus: ["alpha beta"], vocabSize: 200 });
    expect(tokenizer.tokenize("alphabet")).toEqual(["alpha", "##b", "##e", "##t"]);
    expect(tokenizer.tokenize("Ωmega")).toEqual(["[UNK]"]);
  });

  test("the vocabulary is deterministic and bounded by vocabSize", () => {
    const first = buildTokenizer(dirOf("tok-a"), { corpus: TEST_CORPUS, vocabSize: 300 });
    const second = buildTokenizer(dirOf("tok-b"), { corpus: [...TEST_CORPUS], vocabSize: 300 });
    expect(first.vocab).toEqual(second.vocab);
    expect(first.size).toBeLessThanOrEqual(300);
    expect(() => buildTokenizer(dirOf("tok-c"), { corpus: TEST_CORPUS, vocabSize: 10 })).toThrow(
      /vocabSize 10 is too small/,
    );
  });
});

describe("buildLexicalBiEncoder", () => {
  test("a document sharing the query's rare terms has a higher cosine than one that does not", async () => {
    const dir = dirOf("bi");
    buildLexicalBiEncoder(dir, { corpus: TEST_CORPUS });
    const embed = await pipeline("feature-extraction", ...localModel(dir));
    const query = "how do glaciers carve valleys";
    const output = await embed([query, TEST_CORPUS[17], TEST_CORPUS[2], TEST_CORPUS[0]], {
      pooling: "mean",
      normalize: true,
    });
    expect(output.dims).toEqual([4, 384]);
    const rows = output.tolist() as number[][];
    const relevant = cosine(rows[0], rows[1]);
    expect(relevant).toBeGreaterThan(0.3);
    expect(relevant).toBeGreaterThan(cosine(rows[0], rows[2]) + 0.2);
    expect(relevant).toBeGreaterThan(cosine(rows[0], rows[3]) + 0.2);
    await embed.dispose();
  });
});

describe("buildLexicalCrossEncoder", () => {
  const dir = dirOf("ce");
  const dir2 = dirOf("ce2");
  buildLexicalCrossEncoder(dir, { corpus: TEST_CORPUS });
  buildLexicalCrossEncoder(dir2, { corpus: TEST_CORPUS, numLabels: 2 });

  async function logits(modelDir: string, query: string, docs: string[]): Promise<number[][]> {
    const tokenizer = await AutoTokenizer.from_pretrained(...localModel(modelDir));
    const model = await AutoModelForSequenceClassification.from_pretrained(...localModel(modelDir));
    const inputs = tokenizer(new Array(docs.length).fill(query), { text_pair: docs, padding: true, truncation: true });
    const { logits: out } = await model(inputs);
    await model.dispose();
    return out.tolist() as number[][];
  }

  test("documents containing the query terms score highest in every input order", async () => {
    const query = "sulfur dioxide from volcanic eruptions";
    const docs = TEST_CORPUS.slice(0, 20);
    const relevant = new Set([TEST_CORPUS[6], TEST_CORPUS[1]]); // both mention dioxide; [6] matches everything
    for (const seed of [1, 2, 3]) {
      const order = shuffled(docs, seed);
      const scores = (await logits(dir, query, order)).map((row) => row[0]);
      const ranked = order.map((doc, i) => ({ doc, score: scores[i] })).sort((a, b) => b.score - a.score);
      expect(ranked[0].doc).toBe(TEST_CORPUS[6]);
      expect(relevant.has(ranked[1].doc)).toBe(true);
      expect(new Set(scores).size).toBeGreaterThan(5);
    }
  });

  test("an unrelated sentence appended to a document lowers its score only mildly", async () => {
    const query = "sourdough wild yeast";
    const base = TEST_CORPUS[7];
    const [[plain], [padded], [other]] = await logits(dir, query, [
      base,
      `${base} The weather was pleasant that afternoon.`,
      TEST_CORPUS[3],
    ]);
    expect(padded).toBeLessThan(plain);
    expect(plain - padded).toBeLessThan(0.2);
    expect(padded).toBeGreaterThan(other + 5);
  });

  test("a 2-label head puts relevance on label 1, softmax equal to the 1-label sigmoid", async () => {
    const query = "honeybees waggle dance";
    const docs = [TEST_CORPUS[13], TEST_CORPUS[0]];
    const one = await logits(dir, query, docs);
    const two = await logits(dir2, query, docs);
    for (let i = 0; i < docs.length; i++) {
      const sigmoid = 1 / (1 + Math.exp(-one[i][0]));
      const softmax = Math.exp(two[i][1]) / (Math.exp(two[i][0]) + Math.exp(two[i][1]));
      expect(softmax).toBeCloseTo(sigmoid, 5);
    }
    expect(two[0][1]).toBeGreaterThan(two[0][0]);
    expect(two[1][1]).toBeLessThan(two[1][0]);
  });
});

describe("buildBertModel", () => {
  const shape = BERT_PRESETS.tiny;
  const texts: [string, string][] = [
    ["glaciers carve valleys", "Glaciers carve U-shaped valleys as they advance and retreat."],
    ["eiffel tower", "Paris"],
  ];

  test("tiny: ONNX Runtime output equals an independent TypeScript forward pass within 1e-4", async () => {
    const dir = dirOf("tiny-embedding");
    await buildBertModel(dir, { preset: "tiny", head: "embedding", seed: 3, corpus: TEST_CORPUS });
    const weights = readOnnxInitializers(path.join(dir, "onnx", "model.onnx"));
    const tokenizer = await AutoTokenizer.from_pretrained(...localModel(dir, false));
    const embed = await pipeline("feature-extraction", ...localModel(dir, false));
    const model = embed.model;
    // A padded batch of two pairs of different lengths also exercises the attention mask.
    const inputs = tokenizer(
      texts.map((t) => t[0]),
      { text_pair: texts.map((t) => t[1]), padding: true },
    );
    const { last_hidden_state: out } = await model(inputs);
    const [batch, seq, hidden] = out.dims as number[];
    expect(hidden).toBe(shape.hidden);
    const data = out.data as Float32Array;
    const allIds = ids(inputs.input_ids);
    const allTypes = ids(inputs.token_type_ids);
    const mask = ids(inputs.attention_mask);
    let maxDiff = 0;
    for (let b = 0; b < batch; b++) {
      const length = mask.slice(b * seq, (b + 1) * seq).reduce((a, c) => a + c, 0);
      const reference = bertForward(
        weights,
        shape,
        allIds.slice(b * seq, b * seq + length),
        allTypes.slice(b * seq, b * seq + length),
      );
      for (let p = 0; p < length; p++) {
        for (let j = 0; j < hidden; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(reference[p][j] - data[(b * seq + p) * hidden + j]));
        }
      }
    }
    expect(maxDiff).toBeLessThan(1e-4);
    await embed.dispose();
  });

  test("tiny classification head matches the reference, and int8 agrees with fp32 (cosine >= 0.99)", async () => {
    const dir = dirOf("tiny-classification");
    await buildBertModel(dir, { preset: "tiny", head: "classification", numLabels: 2, quantize: true, seed: 5 });
    const weights = readOnnxInitializers(path.join(dir, "onnx", "model.onnx"));
    const tokenizer = await AutoTokenizer.from_pretrained(...localModel(dir));
    const fp32 = await AutoModelForSequenceClassification.from_pretrained(...localModel(dir, false));
    const int8 = await AutoModelForSequenceClassification.from_pretrained(...localModel(dir, true));
    for (const [query, doc] of texts) {
      const inputs = tokenizer(query, { text_pair: doc });
      const got = Array.from((await fp32(inputs)).logits.data as Float32Array);
      const reference = bertClassify(
        weights,
        bertForward(weights, shape, ids(inputs.input_ids), ids(inputs.token_type_ids)),
        2,
      );
      got.forEach((value, i) => expect(Math.abs(value - reference[i])).toBeLessThan(1e-4));
    }
    // int8 vs fp32 on the full hidden states of the embedding twin (logits of a random head are too few numbers).
    const embDir = dirOf("tiny-embedding-q");
    await buildBertModel(embDir, { preset: "tiny", head: "embedding", quantize: true, seed: 5 });
    const embTokenizer = await AutoTokenizer.from_pretrained(...localModel(embDir));
    const inputs = embTokenizer(
      texts.map((t) => t[1]),
      { padding: true },
    );
    const e32 = await pipeline("feature-extraction", ...localModel(embDir, false));
    const e8 = await pipeline("feature-extraction", ...localModel(embDir, true));
    const a = (await e32.model(inputs)).last_hidden_state.data as Float32Array;
    const b = (await e8.model(inputs)).last_hidden_state.data as Float32Array;
    expect(cosine(a, b)).toBeGreaterThanOrEqual(0.99);
    expect(cosine(a, b)).toBeLessThan(1); // really quantized, not a copy
    await Promise.all([fp32.dispose(), int8.dispose(), e32.dispose(), e8.dispose()]);
  });

  test("minilm-l6 has about 22.7M parameters, counted on the built graph's initializers", async () => {
    const dir = dirOf("minilm");
    await buildBertModel(dir, { preset: "minilm-l6", head: "classification" });
    const weights = readOnnxInitializers(path.join(dir, "onnx", "model.onnx"));
    let parameters = 0;
    for (const [name, tensor] of weights) {
      if (!name.startsWith("const_") && tensor.data instanceof Float32Array) parameters += tensor.data.length;
    }
    // 30522·384 + 512·384 + 2·384 + 768 (embeddings) + 6 · 1,774,464 (layers) + 147,840 (pooler) + 385 (classifier)
    expect(parameters).toBe(22_713_601);
    expect(weights.get("embeddings.word_embeddings.weight")?.dims).toEqual([30522, 384]);
    expect(weights.get("encoder.layer.5.intermediate.dense.weight")?.dims).toEqual([384, 1536]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Embeddings 30522·h + 512·h + 2·h + 2h; per layer 4(h² + h) + 2·h·f + f + h + 4h; pooler h² + h; classifier h + 1.
  test.each([
    ["tinybert-l2", 4_386_049, 128, 512, 2],
    ["minilm-l2", 15_615_745, 384, 1536, 2],
    ["minilm-l4", 19_164_673, 384, 1536, 4],
  ] as const)("%s has %d parameters, fp32 and int8 both load and score", async (preset, count, hidden, ffn, layers) => {
    const dir = dirOf(preset);
    await buildBertModel(dir, { preset, head: "classification", quantize: true });
    const weights = readOnnxInitializers(path.join(dir, "onnx", "model.onnx"));
    let parameters = 0;
    for (const [name, tensor] of weights) {
      if (!name.startsWith("const_") && tensor.data instanceof Float32Array) parameters += tensor.data.length;
    }
    expect(parameters).toBe(count);
    expect(BERT_PRESETS[preset].layers).toBe(layers);
    expect(weights.get(`encoder.layer.${layers - 1}.intermediate.dense.weight`)?.dims).toEqual([hidden, ffn]);
    expect(weights.has(`encoder.layer.${layers}.intermediate.dense.weight`)).toBe(false);
    const tokenizer = await AutoTokenizer.from_pretrained(...localModel(dir));
    const inputs = tokenizer(["what causes tides"], { text_pair: ["the moon pulls the oceans"], padding: true });
    const logits: number[][] = [];
    for (const quantized of [false, true]) {
      const model = await AutoModelForSequenceClassification.from_pretrained(...localModel(dir, quantized));
      const out = await model(inputs);
      expect(out.logits.dims).toEqual([1, 1]);
      logits.push(Array.from(out.logits.data as Float32Array));
      await model.dispose();
    }
    expect(Number.isFinite(logits[0][0])).toBe(true);
    expect(logits[1][0]).toBeCloseTo(logits[0][0], 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
