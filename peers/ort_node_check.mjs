// Cross-runtime check: feeds the very token ids that peers/ort_sensitivity.py used through onnxruntime-node
// (1.14.0 is what @xenova/transformers 2.17 runs), one input per run, and prints max |delta| against the Python
// outputs saved beside those ids. Isolates the runtime: tokenization and pooling are held equal.
//
//   npm install --prefix ~/.cache/two-stage-retriever/peers/node-ort114 onnxruntime-node@1.14.0
//   ~/.cache/two-stage-retriever/peers/venv-onnx/bin/python peers/ort_sensitivity.py --save /tmp/ort115.json
//   node peers/ort_node_check.mjs /tmp/ort115.json [disabled|basic|extended|all]
//
// ORT_NODE_DIR overrides the folder holding node_modules/onnxruntime-node. Nothing is written.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const [, , savedFile, opt] = process.argv;
if (!savedFile) {
  console.error(
    "usage: node peers/ort_node_check.mjs <saved.json from ort_sensitivity.py --save> [optimisation level]",
  );
  process.exit(2);
}
const cache = path.join(os.homedir(), ".cache/two-stage-retriever/peers");
const ortDir = process.env.ORT_NODE_DIR ?? path.join(cache, "node-ort114");
const ort = createRequire(path.join(ortDir, "package.json"))("onnxruntime-node");
const ortVersion = JSON.parse(
  fs.readFileSync(path.join(ortDir, "node_modules/onnxruntime-node/package.json"), "utf8"),
).version;
const art = process.env.TSR_PEERS_ARTIFACTS ?? path.join(cache, "artifacts");
const saved = JSON.parse(fs.readFileSync(savedFile, "utf8"));

const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };
if (opt) options.graphOptimizationLevel = opt;
const tensor = (a) => new ort.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, a.length]);

const result = { onnxruntimeNode: ortVersion, optimisation: opt ?? "(default: all)", against: saved.summary };
for (const [label, file] of [
  ["onnx_fp32", "minilm-fp32/all-minilm-l6-v2.onnx"],
  ["onnx_int8", "minilm-q/all-minilm-l6-v2-q.onnx"],
]) {
  const session = await ort.InferenceSession.create(path.join(art, file), options);
  let maxAbs = 0;
  let minCos = 1;
  for (const [row, ids] of saved.emb[label].ids.entries()) {
    const out = await session.run({
      input_ids: tensor(ids),
      attention_mask: tensor(ids.map(() => 1)),
      token_type_ids: tensor(ids.map(() => 0)),
    });
    const hidden = out.last_hidden_state.data;
    const dim = 384;
    const v = new Float64Array(dim);
    for (let i = 0; i < ids.length; i++) for (let j = 0; j < dim; j++) v[j] += hidden[i * dim + j];
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += (v[j] /= ids.length) ** 2;
    const ref = saved.emb[label].vectors[row];
    let dot = 0;
    let refNorm = 0;
    for (let j = 0; j < dim; j++) {
      v[j] = Math.fround(v[j] / Math.sqrt(norm));
      maxAbs = Math.max(maxAbs, Math.abs(v[j] - ref[j]));
      dot += v[j] * ref[j];
      refNorm += ref[j] * ref[j];
    }
    minCos = Math.min(minCos, dot / Math.sqrt(refNorm));
  }
  result[`emb_${label}_max_abs`] = maxAbs;
  result[`emb_${label}_min_cos`] = minCos;
}
const session = await ort.InferenceSession.create(path.join(art, "reranker_en/model.onnx"), options);
let maxAbs = 0;
let pairs = 0;
let orderDiffers = 0;
for (const q of saved.rerank) {
  const logits = [];
  for (const p of q.pairs) {
    const out = await session.run({
      input_ids: tensor(p.ids),
      attention_mask: tensor(p.ids.map(() => 1)),
      token_type_ids: tensor(p.type_ids),
    });
    logits.push(out.logits.data[0]);
  }
  logits.forEach((x, i) => (maxAbs = Math.max(maxAbs, Math.abs(x - q.logits[i]))));
  const order = (a) => a.map((_, i) => i).sort((i, j) => a[j] - a[i] || i - j);
  const mine = order(logits);
  const theirs = order(q.logits);
  orderDiffers += mine.filter((d, i) => d !== theirs[i]).length;
  pairs += logits.length;
}
Object.assign(result, {
  rerank_pairs: pairs,
  rerank_max_abs_logit: maxAbs,
  rerank_order_positions_differing: orderDiffers,
});
console.log(JSON.stringify(result));
