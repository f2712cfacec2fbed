// Comparison 5: end to end. `TwoStageRetriever` (FAISS stage 1 over TransformersEmbeddings, CrossEncoderCompressor
// stage 2) vs the LangChain Python pipeline its docs show: FAISS + HuggingFaceEmbeddings for recall and
// CrossEncoderReranker (HuggingFaceCrossEncoder) in a ContextualCompressionRetriever, both models loaded with
// sentence-transformers' ONNX backend (peers/peer_langchain.py). Same model files on both sides (bge-small-en-v1.5
// int8 — the package's default embedding model — with its query instruction, and ms-marco-MiniLM-L-12-v2 int8),
// same SciFact texts (written once to a file the peer reads), recallK 100, topK 10. Each side builds its index from
// the texts (reported, not a target), then the queries alternate between the sides, the order flipping every query;
// each side times its own `invoke` call. Quality: nDCG@10 of each side's own top 10 against the qrels.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { mean, ndcgAt, quantile } from "../src/eval/metrics.js";
import { TransformersEmbeddings } from "../src/models/transformers_embeddings.js";
import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { TwoStageRetriever } from "../src/two_stage_retriever.js";
import { PeerProcess } from "./peers_process.js";
import { alternate, report } from "./peers_report.js";
import { DEFAULT_RERANK_MODEL } from "./peers_rerank.js";
import { DATASETS } from "./support.js";

const RECALL_K = 100;
const TOP_K = 10;
/** BAAI/bge-small-en-v1.5's retrieval instruction for queries (its model card); ours applies it from its profile. */
const BGE_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";
export const DEFAULT_E2E_EMBEDDER =
  process.env.TSR_PEERS_E2E_EMBEDDER ??
  path.join(os.homedir(), ".cache", "two-stage-retriever", "models", "Xenova", "bge-small-en-v1.5");

export interface EndToEndSettings {
  /** Test queries timed (the first N, file order); 300 = all of SciFact's. */
  queries: number;
  /** Threads of the peer's torch (its ONNX Runtime sessions use their default, one per core). */
  threads: number;
}

export async function compareEndToEnd(s: EndToEndSettings, tmp: string): Promise<void> {
  const onnxFile = path.join("onnx", "model_quantized.onnx");
  for (const f of [path.join(DEFAULT_E2E_EMBEDDER, onnxFile), path.join(DEFAULT_RERANK_MODEL, onnxFile)]) {
    if (!fs.existsSync(f)) {
      throw new Error(
        `Model file ${f} is missing: the end-to-end comparison needs the imported bge-small-en-v1.5 and ` +
          "ms-marco-MiniLM-L-12-v2 folders (npm run models:fetch; TSR_PEERS_E2E_EMBEDDER / TSR_PEERS_RERANKER).",
      );
    }
  }
  const data = loadBeirDataset(path.join(DATASETS, "scifact"));
  const corpusFile = path.join(tmp, "e2e-corpus.jsonl");
  fs.writeFileSync(
    corpusFile,
    data.corpus.map((d) => JSON.stringify({ id: d.id, text: documentText(d) })).join("\n") + "\n",
  );
  const queries = data.queries.slice(0, Math.min(s.queries, data.queries.length));
  // Both sides warm up on a query of their own (not a test query, so every test query is timed alike).
  const warmUp = "Does vitamin D supplementation reduce the risk of fractures in older adults?";
  console.log(
    `\n## End to end: SciFact (${data.corpus.length} docs), ${queries.length} test queries, recallK ${RECALL_K}, topK ${TOP_K}; ` +
      `bge-small-en-v1.5 int8 + ms-marco-MiniLM-L-12-v2 int8 (the same files on both sides)`,
  );
  const peer = PeerProcess.python("langchain", { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" });
  let ours: TwoStageRetriever | undefined;
  try {
    const loaded = await peer.call<{
      versions: Record<string, string>;
      index_s: number;
      docs: number;
      torch_threads: number;
      embedder_max_seq_length: number;
      reranker_max_length: number;
      reranker_backend: string;
      embedder_backend: string;
    }>("langchain.load", {
      embedder: DEFAULT_E2E_EMBEDDER,
      reranker: DEFAULT_RERANK_MODEL,
      onnx_file: onnxFile,
      query_instruction: BGE_QUERY_INSTRUCTION,
      corpus: corpusFile,
      recall_k: RECALL_K,
      top_k: TOP_K,
      threads: s.threads,
    });
    const started = performance.now();
    ours = await TwoStageRetriever.fromDocuments(
      data.corpus.map((d) => new Document({ pageContent: documentText(d), metadata: { id: d.id } })),
      {
        embeddings: new TransformersEmbeddings({ model: DEFAULT_E2E_EMBEDDER }),
        compressor: new CrossEncoderCompressor({ model: DEFAULT_RERANK_MODEL }),
        recallK: RECALL_K,
        topK: TOP_K,
      },
    );
    const oursIndexS = (performance.now() - started) / 1000;
    console.log(
      `index build (informative): ours ${oursIndexS.toFixed(1)} s, peer ${loaded.index_s.toFixed(1)} s ` +
        `(${loaded.docs} docs; peer: ${Object.entries(loaded.versions)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}; backends: embedder ${loaded.embedder_backend}, reranker ${loaded.reranker_backend}; ` +
        `max lengths: embedder ${loaded.embedder_max_seq_length}, reranker ${loaded.reranker_max_length})`,
    );
    const retriever = ours;
    const oursRun = async (query: string) => {
      const t = performance.now();
      const docs = await retriever.invoke(query);
      return { ms: performance.now() - t, ids: docs.map((d) => String(d.metadata.id)) };
    };
    const peerRun = (query: string) => peer.call<{ ms: number; ids: string[] }>("langchain.query", { query });
    await oursRun(warmUp);
    await peerRun(warmUp);
    const ids = { ours: [] as string[][], peer: [] as string[][] };
    const values = await alternate(
      queries.length,
      async (q) => {
        const r = await oursRun(queries[q].text);
        ids.ours[q] = r.ids;
        return r.ms;
      },
      async (q) => {
        const r = await peerRun(queries[q].text);
        ids.peer[q] = r.ids;
        return r.ms;
      },
    );
    const judged = queries;
    const ndcg = (side: "ours" | "peer") =>
      mean(judged.map((q, i) => ndcgAt(ids[side][i], data.qrels.get(q.id) ?? new Map(), TOP_K)));
    const sameTop10 = judged.filter((_, i) => ids.ours[i].join() === ids.peer[i].join()).length;
    const p = (v: number[], q: number) => quantile(v, q).toFixed(0);
    const oursThreads = `ONNX Runtime intra-op default (one per core = ${os.cpus().length}) in the inference worker; tokenizing on the event loop`;
    report({
      section: "end to end",
      what: `SciFact, recallK ${RECALL_K}, topK ${TOP_K}, ms per query (TwoStageRetriever.invoke vs ContextualCompressionRetriever.invoke)`,
      unit: "ms",
      ours: {
        label: "TwoStageRetriever (FaissVectorStore + CrossEncoderCompressor)",
        threads: oursThreads,
        values: values.ours,
      },
      peer: {
        label: `LangChain Python (FAISS + HuggingFaceEmbeddings + CrossEncoderReranker, sentence-transformers ${loaded.versions["sentence-transformers"]} ONNX backend, onnxruntime ${loaded.versions.onnxruntime})`,
        threads: `torch ${loaded.torch_threads}; ONNX Runtime intra-op default (one per core)`,
        values: values.peer,
      },
      target: 1,
      extra:
        `p50/p95 ours ${p(values.ours, 0.5)}/${p(values.ours, 0.95)} ms, peer ${p(values.peer, 0.5)}/${p(values.peer, 0.95)} ms; ` +
        `nDCG@10 ours ${ndcg("ours").toFixed(4)}, peer ${ndcg("peer").toFixed(4)} (${judged.length} queries); ` +
        `same top-10 list on ${sameTop10}/${judged.length}; index build ours ${oursIndexS.toFixed(0)} s, peer ${loaded.index_s.toFixed(0)} s`,
    });
  } finally {
    peer.close();
    await ours?.dispose();
  }
}
