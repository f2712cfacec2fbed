// Benchmarks of the project's own models: build times, and raw ONNX Runtime cost per pair of the MiniLM-shaped
// classification model (batch 32, 128 and 256 tokens, fp32 and int8). Run: npm run bench:models
import os from "node:os";
import path from "node:path";

import { AutoModelForSequenceClassification, Tensor, env } from "@xenova/transformers";

import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { cachedBertModel, machineLine, median, readCorpusTexts } from "./support.js";

env.allowRemoteModels = false;
console.log(`# models bench — ${machineLine()}`);

const corpus = readCorpusTexts("scifact");
let started = performance.now();
buildLexicalBiEncoder(path.join(os.tmpdir(), "bench-lexical-bi"), { corpus });
buildLexicalCrossEncoder(path.join(os.tmpdir(), "bench-lexical-ce"), { corpus });
console.log(
  `lexical bi-encoder + cross-encoder over scifact (${corpus.length} docs): ${(performance.now() - started).toFixed(0)} ms`,
);

started = performance.now();
const { buildBertModel } = await import("../src/testing/index.js");
await buildBertModel(path.join(os.tmpdir(), "bench-minilm-build"), {
  preset: "minilm-l6",
  head: "classification",
  quantize: true,
});
console.log(
  `minilm-l6 classification, model.onnx + model_quantized.onnx: ${(performance.now() - started).toFixed(0)} ms`,
);

const { dir } = await cachedBertModel({ preset: "minilm-l6", head: "classification", quantize: true });
const BATCH = 32;
for (const quantized of [false, true]) {
  // A local folder as 2.17 loads it: by name, from its parent given as the file cache (transformers_runtime.ts).
  const model = await AutoModelForSequenceClassification.from_pretrained(path.basename(dir), {
    quantized,
    local_files_only: true,
    cache_dir: path.dirname(dir),
  });
  for (const length of [128, 256]) {
    const size = BATCH * length;
    const ids = new BigInt64Array(size);
    for (let i = 0; i < size; i++) ids[i] = BigInt(1000 + ((i * 7919) % 20000));
    const feeds = {
      input_ids: new Tensor("int64", ids, [BATCH, length]),
      attention_mask: new Tensor("int64", new BigInt64Array(size).fill(1n), [BATCH, length]),
      token_type_ids: new Tensor("int64", new BigInt64Array(size), [BATCH, length]),
    };
    const session = (model as unknown as { session: { run(f: unknown): Promise<unknown> } }).session;
    await session.run(feeds);
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    console.log(
      `raw ONNX Runtime, ${quantized ? "int8" : "fp32"}, ${length} tokens, batch ${BATCH}: ${(median(times) / BATCH).toFixed(2)} ms/pair`,
    );
  }
  await model.dispose();
}
