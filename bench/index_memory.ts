// Peak RSS of indexing 200 long documents with a MiniLM-L6-shaped embedding model (src/testing buildBertModel),
// one child process per setting (peak RSS is per process). `npm run bench:memory`.
//   tsx bench/index_memory.ts                      → runs every setting and prints a table
//   tsx bench/index_memory.ts --one <batchSize> <maxBatchTokens>   → one measurement (JSON line)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { env } from "@xenova/transformers";

import { TransformersEmbeddings } from "../src/index.js";
import { cachedBertModel } from "./support.js";

const DOCS = 200;
const WORDS = "the bee dances to tell the hive where flowers grow and how far the field lies from the nest".split(" ");

async function measure(batchSize: number, maxBatchTokens: number): Promise<void> {
  env.allowRemoteModels = false;
  const { dir } = await cachedBertModel({ preset: "minilm-l6", head: "embedding", quantize: true, corpus: WORDS });
  // ~600 words each: every text is cut at the model's 512 tokens, the worst case for activation memory.
  const texts = Array.from({ length: DOCS }, (_, i) =>
    Array.from({ length: 600 }, (_, j) => WORDS[(i * 7 + j * 13) % WORDS.length]).join(" "),
  );
  const embeddings = new TransformersEmbeddings({ model: dir, batchSize, maxBatchTokens });
  const started = performance.now();
  const vectors = await embeddings.embedDocuments(texts);
  const ms = performance.now() - started;
  await embeddings.dispose();
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ batchSize, maxBatchTokens, docs: vectors.length, ms: Math.round(ms), peakMb: Math.round(peakMb) })}\n`,
  );
}

if (process.argv[2] === "--one") {
  await measure(Number(process.argv[3]), Number(process.argv[4]));
} else {
  const settings: [number, number, string][] = [
    [32, 32 * 512, "0.1.0 behaviour: batchSize 32, no token budget"],
    [32, 4096, "default: batchSize 32, maxBatchTokens 4096"],
    [8, 32 * 512, "batchSize 8, no token budget"],
    [32, 2048, "maxBatchTokens 2048"],
  ];
  console.log("| setting | peak RSS | time for 200 docs |\n| --- | --- | --- |");
  for (const [batchSize, maxBatchTokens, label] of settings) {
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--one", String(batchSize), String(maxBatchTokens)],
      { encoding: "utf8" },
    );
    if (child.status !== 0) throw new Error(child.stderr);
    const result = JSON.parse(child.stdout.trim().split("\n").pop()!) as { peakMb: number; ms: number };
    console.log(`| ${label} | ${result.peakMb} MB | ${(result.ms / 1000).toFixed(1)} s |`);
  }
}
