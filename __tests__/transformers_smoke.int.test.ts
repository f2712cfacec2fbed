import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { buildTokenizer } from "../src/testing/index.js";
import { runtime, transformers } from "./support/runtime.js";

const { AutoTokenizer, env, pipeline } = transformers;

describe(`${runtime.name} under jest (ESM, offline)`, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xenova-smoke-"));
  const saved = { allowRemoteModels: env.allowRemoteModels, localModelPath: env.localModelPath };

  beforeAll(() => {
    env.allowRemoteModels = false;
    env.localModelPath = root;
  });

  afterAll(() => {
    env.allowRemoteModels = saved.allowRemoteModels;
    env.localModelPath = saved.localModelPath;
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("loads a tokenizer by id from env.localModelPath, pairs in two segments", async () => {
    const ours = buildTokenizer(path.join(root, "tiny-tokenizer"), {
      corpus: ["hello world", "faiss index"],
      vocabSize: 300,
    });
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-tokenizer");
    const encoded = tokenizer("Hello FAISS", { text_pair: "world." });
    const [cls, sep] = [ours.idOf("[CLS]")!, ours.idOf("[SEP]")!];
    const a = ours.encode("Hello FAISS");
    const b = ours.encode("world.");
    expect(Array.from(encoded.input_ids.data as BigInt64Array, Number)).toEqual([cls, ...a, sep, ...b, sep]);
    expect(Array.from(encoded.token_type_ids.data as BigInt64Array, Number)).toEqual([
      ...new Array(a.length + 2).fill(0),
      ...new Array(b.length + 1).fill(1),
    ]);
  });

  test("a hub id with remote models disabled fails fast with an error instead of hanging", async () => {
    // A hang would trip the 10 s timeout of this test.
    await expect(pipeline("feature-extraction", "Xenova/all-MiniLM-L6-v2")).rejects.toThrow(/local|remote|not found/i);
  }, 10_000);
});
