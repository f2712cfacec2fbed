// Comparison 1: cross-encoder reranking with the same ONNX file (cross-encoder/ms-marco-MiniLM-L-12-v2, dynamic int8)
// on the BM25 top-100 SciFact candidates of the first N test queries: ours (CrossEncoderCompressor.rerank, the public
// path: tokenizing on the event loop, the model in its inference worker) vs Python onnxruntime + HF `tokenizers`
// (what flashrank, fastembed and sentence-transformers' ONNX backend do). Both score one pair per session.run (ours'
// default for int8 models, so every pair gets one score); the peer's padded batches of 32 (flashrank's way) are
// measured beside it as an informative row. Then tokenization alone, ms per 100 pairs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { Bm25Index } from "../src/recall/bm25/bm25_index.js";
import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { Document } from "@langchain/core/documents";
import { PeerProcess } from "./peers_process.js";
import { alternate, report } from "./peers_report.js";
import { DATASETS } from "./support.js";

export interface RerankSettings {
  queries: number;
  tokenizeQueries: number;
  candidates: number;
  maxLengths: number[];
  /** Intra-op threads given to the peer's onnxruntime (ours: onnxruntime-node's default, one per core). */
  threads: number;
  /** Also time the peer's padded batches of 32 (informative). */
  peerBatched: boolean;
  modelDir: string;
}

const RERANK_MODEL_DIR = path.join(
  os.homedir(),
  ".cache",
  "two-stage-retriever",
  "models",
  "cross-encoder",
  "ms-marco-MiniLM-L-12-v2",
);
export const DEFAULT_RERANK_MODEL = process.env.TSR_PEERS_RERANKER ?? RERANK_MODEL_DIR;

/** Queries and their BM25 top-N candidate texts, written to a file the peer reads too (same bytes both sides). */
export async function rerankWorkload(count: number, candidates: number, dir: string) {
  const data = loadBeirDataset(path.join(DATASETS, "scifact"));
  const index = await Bm25Index.fromDocuments(
    data.corpus.map((d) => new Document({ pageContent: documentText(d), id: d.id })),
  );
  const queries = data.queries.slice(0, count).map((q) => q.text);
  const lists: string[][] = [];
  for (const q of queries) lists.push((await index.recall(q, candidates)).map((c) => c.document.pageContent));
  const file = path.join(dir, "rerank-workload.json");
  fs.writeFileSync(file, JSON.stringify({ queries, candidates: lists }));
  return { file, queries, candidates: lists };
}

export async function compareRerank(s: RerankSettings, tmp: string): Promise<void> {
  const model = path.join(s.modelDir, "onnx", "model_quantized.onnx");
  const tokenizerFile = path.join(s.modelDir, "tokenizer.json");
  for (const f of [model, tokenizerFile]) {
    if (!fs.existsSync(f)) {
      throw new Error(
        `Reranker file ${f} is missing: the comparison needs the L-12 int8 model folder (TSR_PEERS_RERANKER, default ${RERANK_MODEL_DIR}). Import it first (see docs/models.md).`,
      );
    }
  }
  // One query more than the timed rounds use: the last one warms both sides up (its texts are never timed).
  const work = await rerankWorkload(Math.max(s.queries, s.tokenizeQueries) + 1, s.candidates, tmp);
  const warm = work.queries.length - 1;
  const peer = PeerProcess.python("onnx");
  try {
    const loaded = await peer.call<{ onnxruntime: string; tokenizers: string; intra_op_threads: number }>(
      "rerank.load",
      {
        model,
        tokenizer: tokenizerFile,
        threads: s.threads,
        workload: work.file,
      },
    );
    const peerThreads = `intra-op ${loaded.intra_op_threads}, inter-op 1; tokenizers encode_batch on Rayon's pool (${process.env.RAYON_NUM_THREADS ?? os.cpus().length} threads)`;
    const oursThreads =
      "inference worker: onnxruntime-node intra-op default (one per core: 2 here) + event loop tokenizing";
    const peerLabel = `onnxruntime ${loaded.onnxruntime} + tokenizers ${loaded.tokenizers}`;
    console.log(
      `\n## Cross-encoder rerank: ${path.basename(s.modelDir)} int8 (${model}), ${s.candidates} BM25 candidates × ${s.queries} SciFact queries`,
    );

    for (const maxLength of s.maxLengths) {
      const reranker = new CrossEncoderCompressor({ model: s.modelDir, quantized: true, maxLength });
      // Load and warm up both sides before anything is timed.
      await reranker.rerank(work.candidates[warm], work.queries[warm]);
      await peer.call("rerank.query", { i: warm, maxLength, batch: 1 });
      let maxDiff = 0;
      let top10Same = 0;
      const oursScores: number[][] = [];
      const peerAnswers: { scores: number[]; top: number[] }[] = [];
      const result = await alternate(
        s.queries,
        async (q) => {
          const t0 = performance.now();
          const ranked = await reranker.rerank(work.candidates[q], work.queries[q]);
          const ms = performance.now() - t0;
          const scores = new Array<number>(ranked.length);
          for (const r of ranked) scores[r.index] = r.relevanceScore;
          oursScores[q] = scores;
          return ms;
        },
        async (q) => {
          const answer = await peer.call<{ ms: number; scores: number[]; top: number[] }>("rerank.query", {
            i: q,
            maxLength,
            batch: 1,
          });
          peerAnswers[q] = answer;
          return answer.ms;
        },
      );
      // Same scores? (compared after the timed rounds, so neither side's round carries the other's work)
      for (let q = 0; q < s.queries; q++) {
        const ours = oursScores[q];
        peerAnswers[q].scores.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - ours[i]))));
        const oursTop = ours
          .map((v, i) => [v, i])
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, 10)
          .map((x) => x[1]);
        if (oursTop.join() === peerAnswers[q].top.join()) top10Same++;
      }
      await reranker.dispose();
      report({
        section: "rerank",
        what: `L-12 int8, ${s.candidates} candidates, maxLength ${maxLength}, one pair per run`,
        unit: "ms/query",
        ours: { label: "CrossEncoderCompressor.rerank", threads: oursThreads, values: result.ours },
        peer: { label: peerLabel, threads: peerThreads, values: result.peer },
        target: 1.0,
        extra: `scores max |Δ| ${maxDiff.toExponential(1)} (sigmoid), same top-10 order on ${top10Same}/${s.queries} queries`,
      });
      if (s.peerBatched) {
        const batched: number[] = [];
        for (let q = 0; q < s.queries; q++) {
          batched.push((await peer.call<{ ms: number }>("rerank.query", { i: q, maxLength, batch: 32 })).ms);
        }
        report({
          section: "rerank",
          what: `maxLength ${maxLength}: peer in padded batches of 32 (flashrank's way; int8 scores then depend on the batch)`,
          unit: "ms/query",
          ours: { label: "CrossEncoderCompressor.rerank, one pair per run", threads: oursThreads, values: result.ours },
          peer: { label: `${peerLabel}, batch 32`, threads: peerThreads, values: batched },
        });
      }
    }

    // Tokenization alone: ms per 100 pairs. Ours: encodeBatches (the exact step score() runs before the model).
    for (const maxLength of s.maxLengths) {
      const reranker = new CrossEncoderCompressor({ model: s.modelDir, quantized: true, maxLength });
      await reranker.encodeBatches(work.queries[warm], work.candidates[warm]);
      await peer.call("rerank.tokenize", { i: warm, maxLength });
      const loops: number[] = [];
      const per100 = (ms: number, n: number) => (ms * 100) / n;
      const result = await alternate(
        s.tokenizeQueries,
        async (q) => {
          const t0 = performance.now();
          await reranker.encodeBatches(work.queries[q], work.candidates[q]);
          return per100(performance.now() - t0, work.candidates[q].length);
        },
        async (q) => {
          const a = await peer.call<{ ms: number; loopMs: number; pairs: number }>("rerank.tokenize", {
            i: q,
            maxLength,
          });
          loops.push(per100(a.loopMs, a.pairs));
          return per100(a.ms, a.pairs);
        },
      );
      await reranker.dispose();
      report({
        section: "tokenize",
        what: `100 (query, passage) pairs, maxLength ${maxLength}`,
        unit: "ms/100 pairs",
        ours: {
          label: "CrossEncoderCompressor.encodeBatches (transformers.js tokenizer, pair truncation, batching)",
          threads: "1 (event loop)",
          values: result.ours,
        },
        peer: {
          label: `tokenizers ${loaded.tokenizers} encode_batch`,
          threads: `Rayon, ${process.env.RAYON_NUM_THREADS ?? os.cpus().length} threads`,
          values: result.peer,
        },
        target: 1.0,
      });
      report({
        section: "tokenize",
        what: `100 pairs, maxLength ${maxLength}, peer on one thread (a loop of encode)`,
        unit: "ms/100 pairs",
        ours: { label: "CrossEncoderCompressor.encodeBatches", threads: "1 (event loop)", values: result.ours },
        peer: { label: `tokenizers ${loaded.tokenizers} encode loop`, threads: "1", values: loops },
      });
    }
  } finally {
    peer.close();
  }
}
