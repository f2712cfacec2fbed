// Cascade quality with the project's LEXICAL TEST MODELS on scifact (test-model figures, not real-model quality):
// stage 1 = lexical bi-encoder + FAISS, 100 candidates; stage 2 = a cascade whose first reranker is deliberately
// weaker than its last (the same lexical cross-encoder reading 64 tokens per pair instead of 256), keep 10/20/50,
// against the last reranker alone on all 100 candidates. Runs evaluate()'s keep sweep, the code path users run.
// Run: npm run bench:cascade-quality
import path from "node:path";

import { env } from "@xenova/transformers";

import { loadBeirDataset, documentText } from "../src/eval/beir_dataset.js";
import { evaluate } from "../src/eval/evaluate.js";
import { FaissVectorStore } from "../src/recall/faiss/faiss_vector_store.js";
import { TransformersEmbeddings } from "../src/models/transformers_embeddings.js";
import { CascadeCompressor } from "../src/rerank/cascade_compressor.js";
import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TwoStageRetriever } from "../src/two_stage_retriever.js";
import { DATASETS, MODEL_CACHE, machineLine } from "./support.js";

env.allowRemoteModels = false;
const RECALL_K = 100;
const TOP_K = 10;
const KEEPS = [10, 20, 50];
const FIRST_MAX_LENGTH = 64;
const LAST_MAX_LENGTH = 256;

console.log(`# cascade quality (LEXICAL TEST MODELS) — ${machineLine()}`);
const started = performance.now();
const dataset = loadBeirDataset(path.join(DATASETS, "scifact"));
const indexable = dataset.corpus.filter((doc) => documentText(doc).trim() !== "");
const texts = indexable.map(documentText);
const bi = path.join(MODEL_CACHE, "lexical-scifact-bi");
const ce = path.join(MODEL_CACHE, "lexical-scifact-ce");
buildLexicalBiEncoder(bi, { corpus: texts });
buildLexicalCrossEncoder(ce, { corpus: texts });
const embeddings = new TransformersEmbeddings({ model: bi });
const store = new FaissVectorStore(embeddings);
const vectors = await embeddings.embedDocuments(texts);
await store.addVectors(
  vectors,
  indexable.map((doc, i) => ({ pageContent: texts[i], metadata: { docId: doc.id } })),
);
console.log(`indexed ${texts.length} documents in ${((performance.now() - started) / 1000).toFixed(0)} s`);

const weak = new CrossEncoderCompressor({ model: ce, maxLength: FIRST_MAX_LENGTH });
const strong = new CrossEncoderCompressor({ model: ce, maxLength: LAST_MAX_LENGTH });
const cascade = new CascadeCompressor({ stages: [{ reranker: weak, keep: KEEPS[1] }, { reranker: strong }] });
const retriever = new TwoStageRetriever({ vectorStore: store, compressor: cascade, recallK: RECALL_K, topK: TOP_K });
const report = await evaluate(retriever, dataset, {
  recallKs: [RECALL_K],
  topK: TOP_K,
  keeps: KEEPS,
  latencyQueries: 20,
});
const sweep = report.keepSweep!;
console.log(
  `\n${report.queries} queries, ${RECALL_K} candidates each; first stage: lexical cross-encoder at ${FIRST_MAX_LENGTH} tokens; ` +
    `last stage: the same at ${LAST_MAX_LENGTH} tokens; stage 1 alone: nDCG@${TOP_K} ${report.stage1Ndcg.toFixed(4)}`,
);
console.log(`| keep | nDCG@${TOP_K} | same top-${TOP_K} as full | stage 2 p50 ms |`);
for (const r of sweep.results) {
  console.log(`| ${r.keep} | ${r.ndcg.toFixed(4)} | ${(100 * r.sameTopK).toFixed(1)}% | ${r.rerankP50Ms.toFixed(0)} |`);
}
console.log(
  `| full (${sweep.full.keep}) | ${sweep.full.ndcg.toFixed(4)} | 100% | ${sweep.full.rerankP50Ms.toFixed(0)} |`,
);
const weakAlone = await evaluate(
  new TwoStageRetriever({ vectorStore: store, compressor: weak, recallK: RECALL_K, topK: TOP_K }),
  dataset,
  { recallKs: [RECALL_K], topK: TOP_K, latencyQueries: 0 },
);
console.log(
  `first stage alone (${FIRST_MAX_LENGTH} tokens): nDCG@${TOP_K} ${weakAlone.results[0].ndcg.toFixed(4)}; ` +
    `recommended keep: ${sweep.recommendation.keep}`,
);
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
await Promise.all([embeddings.dispose(), cascade.dispose()]);
