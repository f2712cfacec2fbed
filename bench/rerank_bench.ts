// Reranking cost with a MiniLM-L6-shaped int8 cross-encoder: 20 queries × 100 candidates, maxLength 256.
// (a) scifact passages; (b) a mixed-length set whose pair lengths spread evenly over 16–256 tokens.
// Reports end-to-end ms/pair vs raw ONNX Runtime session time on the identical batches, length-bucketed vs one
// padded batch, wall time per 100 candidates, and how long tokenization blocks the event loop.
// Run: npm run bench:rerank
import fs from "node:fs";
import path from "node:path";

import { AutoModelForSequenceClassification, AutoTokenizer, Tensor, env } from "@xenova/transformers";

import { resolveModelSource } from "../src/models/model_source.js";
import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import type { CrossEncoderSequenceModel, CrossEncoderTokenizer } from "../src/rerank/cross_encoder_model.js";
import { type PaddedBatch, padBatch } from "../src/rerank/pair_batcher.js";
import { DATASETS, cachedBertModel, machineLine, median, readCorpusTexts } from "./support.js";

env.allowRemoteModels = false;
const QUERIES = 20;
const CANDIDATES = 100;
const MAX_LENGTH = 256;

console.log(`# rerank bench — ${machineLine()}`);
const corpus = readCorpusTexts("scifact");
const started = performance.now();
const { dir, buildMs } = await cachedBertModel({
  preset: "minilm-l6",
  head: "classification",
  quantize: true,
  corpus,
});
console.log(`model: ${dir} (${buildMs ? `built in ${(buildMs / 1000).toFixed(1)} s` : "cached"})`);
const id = resolveModelSource(dir, true).id;
const tokenizer = (await AutoTokenizer.from_pretrained(id)) as unknown as CrossEncoderTokenizer;
const model = await AutoModelForSequenceClassification.from_pretrained(id, { quantized: true });
const session = (model as unknown as { session: { run(feeds: Record<string, Tensor>): Promise<unknown> } }).session;
const reranker = new CrossEncoderCompressor({
  tokenizer,
  sequenceModel: model as unknown as CrossEncoderSequenceModel,
  maxLength: MAX_LENGTH,
  topN: 10,
});

const queries = fs
  .readFileSync(path.join(DATASETS, "scifact", "queries.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, QUERIES)
  .map((line) => (JSON.parse(line) as { text: string }).text);

async function rawSessionMs(batches: PaddedBatch[]): Promise<number> {
  let total = 0;
  for (const batch of batches) {
    const shape = [batch.rows, batch.columns];
    const feeds = {
      input_ids: new Tensor("int64", batch.inputIds, shape),
      attention_mask: new Tensor("int64", batch.attentionMask, shape),
      token_type_ids: new Tensor("int64", batch.tokenTypeIds, shape),
    };
    const t0 = performance.now();
    await session.run(feeds);
    total += performance.now() - t0;
  }
  return total;
}

/** The same pairs in input order, 32 per call, all padded to the longest pair: no length bucketing. */
function onePaddedBatchLayout(bucketed: PaddedBatch[]): PaddedBatch[] {
  const pairs = bucketed.flatMap((b) => b.pairs).sort((a, b) => a.owner - b.owner);
  const longest = Math.max(...pairs.map((p) => p.ids.length));
  const out: PaddedBatch[] = [];
  for (let i = 0; i < pairs.length; i += 32) out.push(padBatch(pairs.slice(i, i + 32), 0, longest));
  return out;
}

async function runSet(name: string, candidatesFor: (q: number) => string[]): Promise<void> {
  const endToEnd: number[] = [];
  const raw: number[] = [];
  const unbucketed: number[] = [];
  const blocks: number[] = [];
  const prepares: number[] = [];
  let pairLengths: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const texts = candidatesFor(q);
    const t0 = performance.now();
    await reranker.score(queries[q], texts);
    endToEnd.push(performance.now() - t0);
    blocks.push(reranker.lastStats!.maxBlockMs);
    prepares.push(reranker.lastStats!.prepareMs);
    const { batches } = await reranker.encodeBatches(queries[q], texts);
    pairLengths = pairLengths.concat(batches.flatMap((b) => b.pairs.map((p) => p.ids.length)));
    raw.push(await rawSessionMs(batches));
    unbucketed.push(await rawSessionMs(onePaddedBatchLayout(batches)));
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const pairs = QUERIES * CANDIDATES;
  const meanLength = sum(pairLengths) / pairLengths.length;
  console.log(
    `\n## ${name}: ${QUERIES} queries × ${CANDIDATES} candidates, mean pair length ${meanLength.toFixed(0)} tokens`,
  );
  console.log(
    `end-to-end: ${(sum(endToEnd) / pairs).toFixed(2)} ms/pair; raw session on the same batches: ${(sum(raw) / pairs).toFixed(2)} ms/pair; ratio ${(sum(endToEnd) / sum(raw)).toFixed(3)} (target <= 1.10)`,
  );
  console.log(
    `one padded batch (no bucketing): ${(sum(unbucketed) / pairs).toFixed(2)} ms/pair; bucketing is ${(sum(unbucketed) / sum(raw)).toFixed(2)}× faster (target >= 1.3 on the mixed set)`,
  );
  console.log(`wall time per ${CANDIDATES} candidates: median ${median(endToEnd).toFixed(0)} ms`);
  console.log(
    `tokenization: median ${median(prepares).toFixed(1)} ms per ${CANDIDATES} candidates; longest event-loop block ${Math.max(...blocks).toFixed(1)} ms`,
  );
}

// (a) scifact passages: 100 distinct documents per query (a deterministic slice of the corpus).
await runSet("scifact passages", (q) => corpus.slice((q * 211) % (corpus.length - CANDIDATES)).slice(0, CANDIDATES));

// (b) mixed lengths: candidate j has a pair length of about 16 + 240·j/99 tokens.
const words = corpus.join(" ").split(/\s+/);
const wordTokens = new Map<string, number>();
/** Words from the corpus until they make `count` tokens (BERT tokenization is additive over whitespace words). */
function textOfTokens(count: number, offset: number): string {
  const picked: string[] = [];
  let tokens = 0;
  for (let w = offset; tokens < count; w++) {
    const word = words[w % words.length];
    let n = wordTokens.get(word);
    if (n === undefined) {
      n = tokenizer.encode(word, null, { add_special_tokens: false }).length;
      wordTokens.set(word, n);
    }
    if (tokens + n > count && picked.length > 0) break;
    picked.push(word);
    tokens += n;
  }
  return picked.join(" ");
}
const mixedCache = new Map<number, string[]>();
await runSet("mixed lengths 16-256", (q) => {
  if (!mixedCache.has(q)) {
    const queryTokens = tokenizer.encode(queries[q], null, { add_special_tokens: false }).length;
    mixedCache.set(
      q,
      Array.from({ length: CANDIDATES }, (_, j) => {
        const target = Math.round(16 + (240 * j) / (CANDIDATES - 1)) - queryTokens - 3;
        return textOfTokens(Math.max(1, target), q * 997 + j * 131);
      }),
    );
  }
  return mixedCache.get(q)!;
});
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await reranker.dispose();
