// Comparison 3: embedding all-MiniLM-L6-v2 (mean pooling, normalised, max 256 tokens) on SciFact documents
// (the first N, file order): ours (TransformersEmbeddings.embedDocuments: length-sorted batches of ≤ 32 texts and
// ≤ 4096 padded tokens) vs onnxruntime-python + HF tokenizers on the very same ONNX file (fp32 vs fp32, int8 vs
// int8; length-sorted padded batches of 32) and vs sentence-transformers with the PyTorch weights (fp32). Each round
// embeds one chunk of the documents on every side, the order rotating; the unit is ms per document.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { TransformersEmbeddings } from "../src/models/transformers_embeddings.js";
import { PeerProcess } from "./peers_process.js";
import { report } from "./peers_report.js";
import { DATASETS, median } from "./support.js";

export interface EmbedSettings {
  docs: number;
  rounds: number;
  threads: number;
  modelDir: string;
}

export const DEFAULT_EMBED_MODEL =
  process.env.TSR_PEERS_EMBEDDER ??
  path.join(os.homedir(), ".cache", "two-stage-retriever", "models", "Xenova", "all-MiniLM-L6-v2");
const MAX_LENGTH = 256;
const BATCH = 32;

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((v, i) => {
    dot += v * b[i];
    na += v * v;
    nb += b[i] * b[i];
  });
  return dot / Math.sqrt(na * nb);
}

export async function compareEmbed(s: EmbedSettings, tmp: string): Promise<void> {
  const data = loadBeirDataset(path.join(DATASETS, "scifact"));
  const count = Math.min(s.docs, data.corpus.length);
  // + one warm-up chunk never timed: the documents after the timed ones, or (for the whole corpus) query texts.
  const spare = data.corpus.slice(count, count + BATCH).map(documentText);
  const warmUp = spare.length === BATCH ? spare : data.queries.slice(0, BATCH).map((q) => q.text);
  const texts = [...data.corpus.slice(0, count).map(documentText), ...warmUp];
  const workload = path.join(tmp, "embed-workload.json");
  fs.writeFileSync(workload, JSON.stringify({ texts }));
  const chunk = Math.ceil(count / s.rounds);
  console.log(
    `\n## Embedding: all-MiniLM-L6-v2 (${s.modelDir}), ${count} SciFact docs in ${s.rounds} rounds of ${chunk}, max ${MAX_LENGTH} tokens`,
  );
  const onnx = PeerProcess.python("onnx");
  const st = PeerProcess.python("ref");
  try {
    const stInfo = await st.call<{
      torch: string;
      sentence_transformers: string;
      torch_threads: number;
      max_seq_length: number;
    }>("embed.load_st", { threads: s.threads, workload });
    if (stInfo.max_seq_length !== MAX_LENGTH)
      throw new Error(`sentence-transformers max_seq_length ${stInfo.max_seq_length}, expected ${MAX_LENGTH}.`);
    for (const quantized of [false, true]) {
      const precision = quantized ? "int8" : "fp32";
      const file = path.join(s.modelDir, "onnx", quantized ? "model_quantized.onnx" : "model.onnx");
      const info = await onnx.call<{ onnxruntime: string; tokenizers: string; intra_op_threads: number }>(
        "embed.load_onnx",
        {
          name: precision,
          model: file,
          tokenizer: path.join(s.modelDir, "tokenizer.json"),
          threads: s.threads,
          maxLength: MAX_LENGTH,
          workload,
        },
      );
      const ours = new TransformersEmbeddings({ model: s.modelDir, quantized });
      const warm = texts.slice(count);
      const oursWarm = await ours.embedDocuments(warm);
      const peerWarm = await onnx.call<{ first: number[] }>("embed.embed_onnx", {
        name: precision,
        start: count,
        count: warm.length,
        batch: BATCH,
      });
      const agree = cosine(oursWarm[0], peerWarm.first);
      if (!quantized) await st.call("embed.embed_st", { start: count, count: warm.length, batch: BATCH });
      const values = { ours: [] as number[], onnx: [] as number[], st: [] as number[] };
      const sides = quantized ? (["ours", "onnx"] as const) : (["ours", "onnx", "st"] as const);
      for (let r = 0; r < s.rounds; r++) {
        const start = r * chunk;
        const n = Math.min(chunk, count - start);
        if (n <= 0) break;
        for (let i = 0; i < sides.length; i++) {
          const side = sides[(i + r) % sides.length];
          let ms: number;
          if (side === "ours") {
            const t0 = performance.now();
            await ours.embedDocuments(texts.slice(start, start + n));
            ms = performance.now() - t0;
          } else if (side === "onnx") {
            ms = (
              await onnx.call<{ ms: number }>("embed.embed_onnx", { name: precision, start, count: n, batch: BATCH })
            ).ms;
          } else {
            ms = (await st.call<{ ms: number }>("embed.embed_st", { start, count: n, batch: BATCH })).ms;
          }
          values[side].push(ms / n);
        }
      }
      await ours.dispose();
      const docsPerS = (v: number[]) => (1000 / median(v)).toFixed(1);
      const oursThreads = "onnxruntime-node 1.14.0 intra-op default (one per core: 2 here), on the caller's thread";
      report({
        section: "embed",
        what: `all-MiniLM-L6-v2 ${precision}, same ONNX file`,
        unit: "ms/doc",
        ours: { label: `TransformersEmbeddings ${precision}`, threads: oursThreads, values: values.ours },
        peer: {
          label: `onnxruntime ${info.onnxruntime} + tokenizers ${info.tokenizers}, batch ${BATCH}`,
          threads: `intra-op ${info.intra_op_threads}`,
          values: values.onnx,
        },
        target: 1.0,
        extra: `docs/s ours ${docsPerS(values.ours)}, peer ${docsPerS(values.onnx)}; first vector cosine ours vs peer ${agree.toFixed(5)}`,
      });
      if (!quantized) {
        report({
          section: "embed",
          what: "all-MiniLM-L6-v2 fp32 vs PyTorch weights",
          unit: "ms/doc",
          ours: { label: "TransformersEmbeddings fp32", threads: oursThreads, values: values.ours },
          peer: {
            label: `sentence-transformers ${stInfo.sentence_transformers}, torch ${stInfo.torch}, batch ${BATCH}`,
            threads: `torch ${stInfo.torch_threads} threads`,
            values: values.st,
          },
          target: 1.0,
          extra: `docs/s ours ${docsPerS(values.ours)}, peer ${docsPerS(values.st)}`,
        });
      }
    }
  } finally {
    onnx.close();
    st.close();
  }
}
