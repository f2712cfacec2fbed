import fs from "node:fs";
import path from "node:path";

import { type WordPieceTokenizer, corpusWords } from "./wordpiece.js";

/** What a model builder wrote. */
export interface BuiltModel {
  /** The model directory; pass it as the model id with a local path, or its parent as `env.localModelPath`. */
  dir: string;
  /** The tokenizer written beside the model, usable in TypeScript to count or inspect tokens. */
  tokenizer: WordPieceTokenizer;
  /** Paths of the ONNX files written (`onnx/model.onnx`, and `onnx/model_quantized.onnx` where written). */
  files: string[];
}

/** Writes `config.json` for a BERT-family model. */
export function writeBertConfig(dir: string, config: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "config.json"),
    `${JSON.stringify({ model_type: "bert", transformers_version: "4.36.0", ...config }, null, 2)}\n`,
  );
}

/** `id2label` / `label2id` for a classification head of `numLabels` outputs. */
export function labelMaps(numLabels: number): { id2label: Record<string, string>; label2id: Record<string, number> } {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < numLabels; i++) {
    id2label[String(i)] = `LABEL_${i}`;
    label2id[`LABEL_${i}`] = i;
  }
  return { id2label, label2id };
}

/**
 * BM25-style inverse document frequency of every vocabulary id over `corpus`, as the tokenizer splits it:
 * `ln(1 + (N - df + 0.5) / (df + 0.5))`. Special tokens get 0 so they never count as overlap. Tokens that never
 * occur in the corpus can match nothing; they get ln 2 (the weight of a term in half the documents) so that a
 * query's out-of-corpus words neither dominate its vector nor vanish from it.
 */
export function tokenIdf(tokenizer: WordPieceTokenizer, corpus: readonly string[]): Float32Array {
  const df = new Uint32Array(tokenizer.size);
  for (const words of corpusWords(corpus)) {
    for (const id of new Set(tokenizer.encodeWords(words))) df[id] += 1;
  }
  const n = corpus.length;
  const idf = new Float32Array(tokenizer.size);
  for (let id = 0; id < tokenizer.size; id++) {
    idf[id] = df[id] === 0 ? Math.LN2 : Math.log(1 + (n - df[id] + 0.5) / (df[id] + 0.5));
  }
  for (const special of ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) {
    const id = tokenizer.idOf(special);
    if (id !== undefined) idf[id] = 0;
  }
  return idf;
}

/**
 * A seeded PRNG (xorshift32) returning floats in [0, 1). Bit operations only: under jest every `Math.*` call
 * (including `Math.imul`) is ~20× slower, and the `minilm-l6` preset draws ~90M numbers.
 */
export function seededRandom(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < 8; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
  }
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/**
 * `count` approximately normal deviates with the given mean and standard deviation: the centred sum of four
 * uniforms (Irwin–Hall), which needs no `Math` calls in the loop. That matters under jest, whose VM realm makes
 * every `Math.*` call ~20× slower, and 22.7M weights are drawn for the `minilm-l6` preset.
 */
export function normalArray(count: number, random: () => number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(count);
  const scale = std * 1.7320508075688772; // the sum of 4 uniforms has variance 1/3
  for (let i = 0; i < count; i++) out[i] = mean + (random() + random() + random() + random() - 2) * scale;
  return out;
}
