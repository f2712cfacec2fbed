// Where the time of one rerank goes (the profile behind comparison 1 of bench:peers): the same L-12 int8 file on the
// same BM25 top-100 SciFact candidates, ours through CrossEncoderCompressor (worker and caller's thread) with its
// own stage times (lastStats), against raw onnxruntime-node sessions on the very token ids ours produced, one pair per
// run, with intra-op threads 1, 2 and the default, and the Python peer (bench:peers' rerank peer), query by query.
// Run: flock /tmp/heavy.lock nice -n 5 npx tsx bench/peers_rerank_profile.ts [queries=4] [maxLength=256]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import ort from "onnxruntime-node";

import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { PeerProcess } from "./peers_process.js";
import { DEFAULT_RERANK_MODEL, rerankWorkload } from "./peers_rerank.js";
import { machineLine, median } from "./support.js";

const queries = Number(process.argv[2] ?? 4);
const maxLength = Number(process.argv[3] ?? 256);
console.log(
  `# rerank profile — ${machineLine()}, load ${os.loadavg()[0].toFixed(2)}; ${queries} queries, maxLength ${maxLength}`,
);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rerank-profile-"));
const work = await rerankWorkload(queries + 1, 100, tmp);
const model = path.join(DEFAULT_RERANK_MODEL, "onnx", "model_quantized.onnx");
const worker = new CrossEncoderCompressor({ model: DEFAULT_RERANK_MODEL, quantized: true, maxLength });
const caller = new CrossEncoderCompressor({
  model: DEFAULT_RERANK_MODEL,
  quantized: true,
  maxLength,
  inferenceWorker: false,
});
const sessions = new Map<string, ort.InferenceSession>();
for (const t of [1, 2, 0])
  sessions.set(String(t), await ort.InferenceSession.create(model, t ? { intraOpNumThreads: t } : {}));

const peer = PeerProcess.python("onnx");
await peer.call("rerank.load", {
  model,
  tokenizer: path.join(DEFAULT_RERANK_MODEL, "tokenizer.json"),
  threads: 2,
  workload: work.file,
});
const warm = queries;
await peer.call("rerank.query", { i: warm, maxLength, batch: 1 });
await worker.rerank(work.candidates[warm], work.queries[warm]);
await caller.rerank(work.candidates[warm], work.queries[warm]);
const rows: Record<string, number[]> = {};
const add = (k: string, v: number) => (rows[k] ??= []).push(v);
for (let q = 0; q < queries; q++) {
  let t0 = performance.now();
  await worker.rerank(work.candidates[q], work.queries[q]);
  add("ours, inference worker (default): total", performance.now() - t0);
  const st = worker.lastStats!;
  add("  of which prepare (tokenize + batch, event loop)", st.prepareMs);
  add("  of which awaiting the model (worker)", st.modelMs);
  add("  pairs tokens (padded)", st.tokens);
  t0 = performance.now();
  await caller.rerank(work.candidates[q], work.queries[q]);
  add("ours, inferenceWorker: false: total", performance.now() - t0);
  add(
    "python peer (onnxruntime 1.15 intra-op 2 + tokenizers), one pair per run",
    (await peer.call<{ ms: number }>("rerank.query", { i: q, maxLength, batch: 1 })).ms,
  );
  const { batches } = await worker.encodeBatches(work.queries[q], work.candidates[q]);
  for (const [t, s] of sessions) {
    t0 = performance.now();
    for (const b of batches) {
      const shape = [b.rows, b.columns];
      await s.run({
        input_ids: new ort.Tensor("int64", b.inputIds, shape),
        attention_mask: new ort.Tensor("int64", b.attentionMask, shape),
        token_type_ids: new ort.Tensor("int64", b.tokenTypeIds, shape),
      });
    }
    add(`raw onnxruntime-node session, intra-op ${t === "0" ? "default" : t}, same ids`, performance.now() - t0);
  }
}
for (const [k, v] of Object.entries(rows))
  console.log(`${k.padEnd(62)} median ${median(v).toFixed(0)}  (${v.map((x) => x.toFixed(0)).join(", ")})`);
peer.close();
await worker.dispose();
await caller.dispose();
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(0);
