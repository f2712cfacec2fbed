// `npm run bench:peers`: this package side by side with the Python (and Lucene) stacks a user would otherwise pick,
// on the same machine, weights and data, in one run. Each comparison alternates the two sides round by round and
// prints one line `ratio <ours/peer>` (a ratio of times: below 1 means ours is faster) with the absolute figures,
// the threads of both sides and the spread of the per-round ratios; a closing Markdown table collects the rows.
// A peer that cannot run fails the run (exit 1), never a silent skip.
//
//   npm run bench:peers                      # small default (a few minutes on 2 idle cores)
//   npm run bench:peers -- --full            # the sizes of issue 26 (50 rerank queries, whole corpus, 1M vectors,
//                                            # all 300 SciFact queries end to end)
//   npm run bench:peers -- --only rerank,bm25 --rerank-queries 4
// Measured runs on a shared machine: flock /tmp/heavy.lock nice -n 5 npm run bench:peers
// Setup: peers/setup_venv.sh onnx|ref|bm25s|faiss|langchain, peers/fetch_anserini.sh (see peers/README.md).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { compareBm25 } from "./peers_bm25.js";
import { compareDense } from "./peers_dense.js";
import { compareEndToEnd } from "./peers_e2e.js";
import { compareEmbed, DEFAULT_EMBED_MODEL } from "./peers_embed.js";
import { compareRerank, DEFAULT_RERANK_MODEL } from "./peers_rerank.js";
import { rows, table } from "./peers_report.js";
import { machineLine } from "./support.js";

const SECTIONS = ["rerank", "bm25", "embed", "dense", "e2e"] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    full: { type: "boolean", default: false },
    only: { type: "string" },
    threads: { type: "string" },
    "rerank-queries": { type: "string" },
    "tokenize-queries": { type: "string" },
    "max-lengths": { type: "string" },
    "no-peer-batched": { type: "boolean", default: false },
    "bm25-rounds": { type: "string" },
    "bm25-large": { type: "string" },
    "embed-docs": { type: "string" },
    "embed-rounds": { type: "string" },
    "dense-n": { type: "string" },
    "dense-queries": { type: "string" },
    "e2e-queries": { type: "string" },
  },
});
const full = values.full;
const num = (name: keyof typeof values, quick: number, whole: number): number => {
  const raw = values[name];
  if (raw === undefined) return full ? whole : quick;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0; got '${raw}'.`);
  return n;
};
const only = (values.only ?? SECTIONS.join(",")).split(",").map((s) => s.trim()) as Section[];
for (const s of only) {
  if (!SECTIONS.includes(s))
    throw new Error(`--only '${s}' is not a section; expected some of ${SECTIONS.join(", ")}.`);
}
const threads = num("threads", os.cpus().length, os.cpus().length);

console.log(
  `# bench:peers ${full ? "--full" : "(default sizes)"} — ${machineLine()}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(`# ratio = ours/peer of the medians of alternating rounds (times: < 1 means ours is faster)`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-peers-"));
const started = performance.now();
try {
  if (only.includes("rerank")) {
    await compareRerank(
      {
        queries: num("rerank-queries", 6, 50),
        tokenizeQueries: num("tokenize-queries", 20, 50),
        candidates: 100,
        maxLengths: (values["max-lengths"] ?? "512,256").split(",").map(Number),
        threads,
        peerBatched: !values["no-peer-batched"],
        modelDir: DEFAULT_RERANK_MODEL,
      },
      tmp,
    );
  }
  if (only.includes("bm25")) {
    await compareBm25({ rounds: num("bm25-rounds", 3, 5), large: num("bm25-large", 0, 100_000) }, tmp);
  }
  if (only.includes("embed")) {
    const docs = num("embed-docs", 384, 5183);
    await compareEmbed({ docs, rounds: num("embed-rounds", 4, 20), threads, modelDir: DEFAULT_EMBED_MODEL }, tmp);
  }
  if (only.includes("dense")) {
    for (const n of (values["dense-n"] ?? (full ? "100000,1000000" : "100000")).split(",").map(Number)) {
      await compareDense({ n, queries: num("dense-queries", 64, 128), rounds: 6, threads }, tmp);
    }
  }
  if (only.includes("e2e")) {
    await compareEndToEnd({ queries: num("e2e-queries", 50, 300), threads }, tmp);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n## Table (${rows.length} rows, ${((performance.now() - started) / 60000).toFixed(1)} min)\n`);
console.log(table());
process.exit(0);
