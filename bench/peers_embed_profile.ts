// Where the time of embedding goes (the profile behind comparison 3 of bench:peers): ours (TransformersEmbeddings)
// against a raw onnxruntime-node session on the same file fed the same way the Python peer feeds onnxruntime
// (transformers.js tokenizer, length-sorted padded batches of 32, no pooling), alternating round by round, so
// "wrapper cost" and "runtime (onnxruntime-node 1.14 vs onnxruntime-python 1.15)" separate.
// Run: flock /tmp/heavy.lock nice -n 5 npx tsx bench/peers_embed_profile.ts [docs=128] [rounds=4] [fp32|int8]
import os from "node:os";
import path from "node:path";

import { AutoTokenizer, env } from "@xenova/transformers";
import ort from "onnxruntime-node";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { TransformersEmbeddings } from "../src/models/transformers_embeddings.js";
import { DEFAULT_EMBED_MODEL } from "./peers_embed.js";
import { DATASETS, machineLine, median } from "./support.js";

env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.dirname(DEFAULT_EMBED_MODEL));
const docs = Number(process.argv[2] ?? 128);
const rounds = Number(process.argv[3] ?? 4);
const quantized = process.argv[4] === "int8";
console.log(
  `# embed profile — ${machineLine()}, load ${os.loadavg()[0].toFixed(2)}; ${docs} docs × ${rounds} rounds, ${quantized ? "int8" : "fp32"}`,
);
const texts = loadBeirDataset(path.join(DATASETS, "scifact"))
  .corpus.slice(0, docs * (rounds + 1))
  .map(documentText);
const ours = new TransformersEmbeddings({ model: DEFAULT_EMBED_MODEL, quantized });
const tokenizer = await AutoTokenizer.from_pretrained(path.relative(env.localModelPath, DEFAULT_EMBED_MODEL));
const session = await ort.InferenceSession.create(
  path.join(DEFAULT_EMBED_MODEL, "onnx", quantized ? "model_quantized.onnx" : "model.onnx"),
);

async function raw(part: string[]): Promise<{ total: number; tokenize: number; run: number }> {
  const t0 = performance.now();
  const lengths = part.map((t) => tokenizer.encode(t, null, { add_special_tokens: true }).length);
  const order = part.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  let tokenize = performance.now() - t0;
  let run = 0;
  for (let s = 0; s < order.length; s += 32) {
    const rows = order.slice(s, s + 32).map((i) => part[i]);
    const t1 = performance.now();
    const enc = tokenizer(rows, { padding: true, truncation: true, max_length: 256 });
    tokenize += performance.now() - t1;
    const t2 = performance.now();
    await session.run({
      input_ids: new ort.Tensor("int64", enc.input_ids.data, enc.input_ids.dims),
      attention_mask: new ort.Tensor("int64", enc.attention_mask.data, enc.attention_mask.dims),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(enc.input_ids.data.length), enc.input_ids.dims),
    });
    run += performance.now() - t2;
  }
  return { total: performance.now() - t0, tokenize, run };
}

const warm = texts.slice(docs * rounds);
await ours.embedDocuments(warm);
await raw(warm);
const rows: Record<string, number[]> = {};
const add = (k: string, v: number) => (rows[k] ??= []).push(v / docs);
for (let r = 0; r < rounds; r++) {
  const part = texts.slice(r * docs, (r + 1) * docs);
  const t0 = performance.now();
  await ours.embedDocuments(part);
  add("ours TransformersEmbeddings.embedDocuments", performance.now() - t0);
  const x = await raw(part);
  add("raw onnxruntime-node session, batches of 32: total", x.total);
  add("  of which tokenize (transformers.js)", x.tokenize);
  add("  of which session.run", x.run);
}
for (const [k, v] of Object.entries(rows))
  console.log(`${k.padEnd(55)} ms/doc median ${median(v).toFixed(2)}  (${v.map((x) => x.toFixed(1)).join(", ")})`);
await ours.dispose();
process.exit(0);
