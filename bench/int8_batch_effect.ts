// npm run bench:int8-batching — does padded batching move a dynamic-int8 reranker's ranking? The L-12 int8 reranker
// (imported by `npm run models:fetch`) scores the parity fixture's 20 SciFact queries × 100 BM25 candidates twice:
// one pair per run (batchSize 1, as the reference) and in the default length-bucketed padded batches. Prints the
// largest logit difference, how many top-10s differ, nDCG@10 of each, and the time of each.
import fs from "node:fs";
import path from "node:path";

import { CrossEncoderCompressor, defaultModelDirectory } from "../src/index.js";
import { ndcgAt } from "../src/eval/metrics.js";
import { DATASETS, REPO_ROOT } from "./support.js";

interface FixtureQuery {
  query: string;
  doc_ids: string[];
  relevant_doc_ids: string[];
  logits_512: number[];
}

const fixture = JSON.parse(
  fs.readFileSync(
    path.join(REPO_ROOT, "__tests__", "fixtures", "parity", "rerank-ms-marco-minilm-l12-v2-int8.json"),
    "utf8",
  ),
) as { queries: FixtureQuery[] };
const corpus = new Map(
  fs
    .readFileSync(path.join(DATASETS, "scifact", "corpus.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { _id: string; title?: string; text: string })
    .map((doc) => [doc._id, `${doc.title ?? ""} ${doc.text}`.trim()]),
);
const modelDir = defaultModelDirectory();

async function run(batchSize: number | undefined) {
  const reranker = new CrossEncoderCompressor({
    model: "cross-encoder/ms-marco-MiniLM-L-12-v2",
    localModelRoot: modelDir,
    offline: true,
    activation: "none",
    maxLength: 512,
    ...(batchSize === undefined ? {} : { batchSize }),
  });
  await reranker.score("warm-up", ["warm-up"]);
  const started = performance.now();
  const logits: number[][] = [];
  for (const q of fixture.queries)
    logits.push(
      await reranker.score(
        q.query,
        q.doc_ids.map((id) => corpus.get(id)!),
      ),
    );
  const ms = performance.now() - started;
  await reranker.dispose();
  return { logits, ms };
}

function ndcg(logits: number[][]): number {
  const values = fixture.queries.map((q, i) => {
    const ranking = q.doc_ids
      .map((id, j) => [id, logits[i][j]] as const)
      .sort((a, b) => b[1] - a[1])
      .map(([id]) => id);
    return ndcgAt(ranking, new Map(q.relevant_doc_ids.map((id) => [id, 1])), 10);
  });
  return values.reduce((s, v) => s + v, 0) / values.length;
}

const single = await run(1);
const batched = await run(undefined);
let worst = 0;
let differentTop10 = 0;
fixture.queries.forEach((q, i) => {
  q.doc_ids.forEach((_, j) => (worst = Math.max(worst, Math.abs(single.logits[i][j] - batched.logits[i][j]))));
  const top = (l: number[]) =>
    l
      .map((v, j) => [j, v])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([j]) => j)
      .join();
  if (top(single.logits[i]) !== top(batched.logits[i])) differentTop10 += 1;
});
const reference = ndcg(fixture.queries.map((q) => q.logits_512));
console.log(`queries ${fixture.queries.length} × 100 candidates, L-12 int8, maxLength 512`);
console.log(
  `batch 1: nDCG@10 ${ndcg(single.logits).toFixed(4)} in ${(single.ms / 1000).toFixed(1)} s (reference logits: ${reference.toFixed(4)})`,
);
console.log(`default batches: nDCG@10 ${ndcg(batched.logits).toFixed(4)} in ${(batched.ms / 1000).toFixed(1)} s`);
console.log(`max |Δ logit| batched vs batch 1: ${worst.toFixed(4)}; queries whose top 10 differ: ${differentTop10}`);
