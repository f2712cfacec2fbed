import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { AutoTokenizer, env, pipeline } from "@xenova/transformers";

/** A hand-written BERT WordPiece tokenizer, the smallest thing transformers.js loads from a local directory. */
function writeTinyTokenizer(dir: string): void {
  const vocabList = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "fa", "##iss", "."];
  const vocab = Object.fromEntries(vocabList.map((token, id) => [token, id]));
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(special),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [vocab["[CLS]"]], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [vocab["[SEP]"]], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  fs.writeFileSync(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true, model_max_length: 512 }),
  );
}

describe("@xenova/transformers under jest (ESM, offline)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xenova-smoke-"));
  const saved = { allowRemoteModels: env.allowRemoteModels, localModelPath: env.localModelPath };

  beforeAll(() => {
    env.allowRemoteModels = false;
    env.localModelPath = root;
    writeTinyTokenizer(path.join(root, "tiny-tokenizer"));
  });

  afterAll(() => {
    env.allowRemoteModels = saved.allowRemoteModels;
    env.localModelPath = saved.localModelPath;
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("loads a tokenizer by id from env.localModelPath", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-tokenizer");
    const encoded = tokenizer("Hello FAISS", { text_pair: "world." });
    expect(Array.from(encoded.input_ids.data as BigInt64Array, Number)).toEqual([2, 5, 7, 8, 3, 6, 9, 3]);
    expect(Array.from(encoded.token_type_ids.data as BigInt64Array, Number)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
  });

  test("a hub id with remote models disabled fails fast with an error instead of hanging", async () => {
    // A hang would trip the 10 s timeout of this test.
    await expect(pipeline("feature-extraction", "Xenova/all-MiniLM-L6-v2")).rejects.toThrow(/local|remote|not found/i);
  }, 10_000);
});
