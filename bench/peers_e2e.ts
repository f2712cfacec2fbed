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
/** Equal quality: the 95 % paired-bootstrap interval of the mean per-query ΔnDCG@10 (ours − peer) reaches this. */
const EQUAL_QUALITY_MARGIN = 0.005;
export const DEFAULT_E2E_EMBEDDER =
  process.env.TSR_PEERS_E2E_EMBEDDER ??
  path.join(os.homedir(), ".cache", "two-stage-retriever", "models", "Xenova", "bge-small-en-v1.5");

/**
 * Mean of `deltas` and its 95 % percentile interval over `resamples` bootstrap resamples of the queries (paired: a
 * resample draws whole queries, each with both sides' scores). Seeded, so a rerun gives the same interval.
 */
export function pairedBootstrap(
  deltas: number[],
  resamples = 10_000,
  seed = 26,
): { mean: number; low: number; high: number } {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < deltas.length; i++) sum += deltas[Math.floor(random() * deltas.length)];
    means.push(sum / deltas.length);
  }
  means.sort((a, b) => a - b);
  return { mean: mean(deltas), low: means[Math.floor(0.025 * resamples)], high: means[Math.floor(0.975 * resamples)] };
}

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
  // Ours' embedding profile decides the prefixes; the peer is handed the same ones.
  const embeddings = new TransformersEmbeddings({ model: DEFAULT_E2E_EMBEDDER });
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
      query_prefix: embeddings.queryPrefix,
      document_prefix: embeddings.documentPrefix,
      corpus: corpusFile,
      recall_k: RECALL_K,
      top_k: TOP_K,
      threads: s.threads,
    });
    const started = performance.now();
    ours = await TwoStageRetriever.fromDocuments(
      data.corpus.map((d) => new Document({ pageContent: documentText(d), metadata: { id: d.id } })),
      {
        embeddings,
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
        `max lengths: embedder ${loaded.embedder_max_seq_length}, reranker ${loaded.reranker_max_length}; ` +
        `prefixes on both sides: query ${JSON.stringify(embeddings.queryPrefix)}, document ${JSON.stringify(embeddings.documentPrefix)})`,
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
    const checked = (side: string, query: string, got: string[]) => {
      if (got.length !== TOP_K)
        throw new Error(`${side} returned ${got.length} documents for '${query}', not ${TOP_K}.`);
      return got;
    };
    const values = await alternate(
      queries.length,
      async (q) => {
        const r = await oursRun(queries[q].text);
        ids.ours[q] = checked("ours", queries[q].text, r.ids);
        return r.ms;
      },
      async (q) => {
        const r = await peerRun(queries[q].text);
        ids.peer[q] = checked("the peer", queries[q].text, r.ids);
        return r.ms;
      },
    );
    const perQuery = (side: "ours" | "peer") =>
      queries.map((q, i) => ndcgAt(ids[side][i], data.qrels.get(q.id) ?? new Map(), TOP_K));
    const ndcg = { ours: perQuery("ours"), peer: perQuery("peer") };
    const delta = pairedBootstrap(ndcg.ours.map((v, i) => v - ndcg.peer[i]));
    const equalQuality = delta.high >= -EQUAL_QUALITY_MARGIN;
    const sameTop10 = queries.filter((_, i) => ids.ours[i].join() === ids.peer[i].join()).length;
    const p = (v: number[], q: number) => quantile(v, q).toFixed(0);
    const saved = path.join(os.tmpdir(), `bench-peers-e2e-${process.pid}.json`);
    fs.writeFileSync(
      saved,
      JSON.stringify({ queries: queries.map((q) => q.id), ms: values, ids, ndcg, delta, versions: loaded.versions }),
    );
    console.log(
      `quality: nDCG@10 ours ${mean(ndcg.ours).toFixed(4)}, peer ${mean(ndcg.peer).toFixed(4)} over ${queries.length} ` +
        `queries; Δ ours − peer ${delta.mean.toFixed(4)} (95 % paired bootstrap ${delta.low.toFixed(4)} … ` +
        `${delta.high.toFixed(4)}); equal quality (the interval reaches −${EQUAL_QUALITY_MARGIN}): ` +
        `${equalQuality ? "yes" : "NO"}; same top-10 list on ${sameTop10}/${queries.length}; per query: ${saved}`,
    );
    const oursThreads =
      `ONNX Runtime intra-op default (one per core = ${os.cpus().length}) in the inference worker, one pair per ` +
      "call (its int8 default); tokenizing on the event loop";
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
        threads: `torch ${loaded.torch_threads}; ONNX Runtime intra-op default (one per core); CrossEncoder.predict in padded batches of 32 (its default)`,
        values: values.peer,
      },
      target: 1,
      also: { holds: equalQuality, what: "equal nDCG@10" },
      extra:
        `p50/p95 ours ${p(values.ours, 0.5)}/${p(values.ours, 0.95)} ms, peer ${p(values.peer, 0.5)}/${p(values.peer, 0.95)} ms; ` +
        `nDCG@10 ours ${mean(ndcg.ours).toFixed(4)}, peer ${mean(ndcg.peer).toFixed(4)}, Δ ${delta.mean.toFixed(4)} ` +
        `[${delta.low.toFixed(4)}, ${delta.high.toFixed(4)}]; index build ours ${oursIndexS.toFixed(0)} s, peer ${loaded.index_s.toFixed(0)} s`,
    });
  } finally {
    peer.close();
    await ours?.dispose();
  }
}
