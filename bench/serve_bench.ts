// `two-stage serve` under load, beside the same reranker in-process, on this machine (loopback only).
// (a) 100-candidate rerank requests (SciFact passages, a different query each) at concurrency 1, 8 and 32: pairs/s
//     and p50/p95 latency of the server (a child process started with the CLI, as users run it; load from autocannon
//     in this process) vs the same model called in-process with the same concurrency (CrossEncoderCompressor.score),
//     interleaved round by round; overhead = in-process pairs/s ÷ server pairs/s (1.00 = no cost of serving).
// (b) overload: 4× the capacity measured in (a) for a fixed time: the server must answer 429 (+ Retry-After) to what
//     it cannot queue, answer every admitted request within its deadline, keep its memory flat, and not crash.
// The load generator shares the 2 cores with the server: the overload phase offers more than it can take anyway.
// Model: a MiniLM-L2-shaped int8 cross-encoder (ms-marco-MiniLM-L-2-v2's shape, random weights: cost, not quality)
// at maxLength 256, or --model <dir> (e.g. ~/.cache/two-stage-retriever/models/cross-encoder/ms-marco-MiniLM-L-12-v2).
// Run: npm run bench:serve [-- --rounds 3] [--model <dir>] [--max-length 256] [--overload-seconds 20]
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import autocannon from "autocannon";

import { quantile } from "../src/eval/metrics.js";
import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { DATASETS, REPO_ROOT, cachedBertModel, machineLine, median, readCorpusTexts } from "./support.js";

const { values: options } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    model: { type: "string" },
    "max-length": { type: "string", default: "256" },
    "overload-seconds": { type: "string", default: "20" },
    concurrency: { type: "string", default: "1,8,32" },
    "max-concurrent": { type: "string", default: "2" },
  },
});
const ROUNDS = Number(options.rounds);
const MAX_LENGTH = Number(options["max-length"]);
const OVERLOAD_SECONDS = Number(options["overload-seconds"]);
const LEVELS = options.concurrency.split(",").map(Number);
const CANDIDATES = 100;
/** The server's limits in this bench: room for the 32 connections of (a), a 30 s deadline per request. */
const MAX_QUEUE = 40;
const DEADLINE_MS = 30_000;

console.log(`# serve bench — ${machineLine()}`);
const corpus = readCorpusTexts("scifact");
const queries = fs
  .readFileSync(path.join(DATASETS, "scifact", "queries.jsonl"), "utf8")
  .split("\n")
  .filter((line) => line.trim())
  .map((line) => (JSON.parse(line) as { text: string }).text);
/**
 * Request i: query i, the next 100 passages of the corpus (no text repeats within 51 requests, so neither side
 * gains from its token cache more than the other).
 */
const request = (i: number) => ({
  query: queries[i % queries.length],
  texts: Array.from({ length: CANDIDATES }, (_, j) => corpus[(i * CANDIDATES + j) % corpus.length]),
});

const modelDir =
  options.model ?? (await cachedBertModel({ preset: "minilm-l2", head: "classification", quantize: true, corpus })).dir;
console.log(`model: ${modelDir} (int8), maxLength ${MAX_LENGTH}, ${CANDIDATES} candidates a request`);

// The server, as users start it.
const server = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    path.join(REPO_ROOT, "src/cli/main.ts"),
    "serve",
    "--reranker-model",
    modelDir,
    "--max-length",
    String(MAX_LENGTH),
    "--offline",
    "--port",
    "0",
    "--max-queue",
    String(MAX_QUEUE),
    "--request-timeout-ms",
    String(DEADLINE_MS),
    "--max-concurrent",
    options["max-concurrent"],
  ],
  { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] },
);
const url = await listeningUrl(server);
console.log(
  `server: ${url} (pid ${server.pid}; --max-queue ${MAX_QUEUE}, --request-timeout-ms ${DEADLINE_MS}, ` +
    `--max-concurrent ${options["max-concurrent"]})`,
);
const inProcess = new CrossEncoderCompressor({ model: modelDir, quantized: true, maxLength: MAX_LENGTH });
await inProcess.score("warm-up", ["warm-up"]);

/** Resolves the URL `two-stage serve` prints once it listens; rejects if it exits first. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`two-stage serve exited (${code}) before listening:\n${seen}`)));
  });
}

/** The server's resident memory in MB (Linux /proc), its inference worker included. */
function serverRssMb(): number {
  const status = fs.readFileSync(`/proc/${server.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

interface Measured {
  pairsPerS: number;
  p50: number;
  p95: number;
  statuses: Map<number, number>;
  admittedMs: number[];
  peakRssMb?: number;
}

let next = 0;

/** `amount` requests over `concurrency` loops calling the in-process reranker. */
async function runInProcess(concurrency: number, amount: number): Promise<Measured> {
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < amount) {
        issued++;
        const { query, texts } = request(next++);
        const t0 = performance.now();
        await inProcess.score(query, texts);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return summarize(latencies, (amount * CANDIDATES) / seconds, new Map([[200, amount]]), latencies);
}

/** autocannon against the server: `amount` requests over `concurrency` connections. */
async function runServer(concurrency: number, amount: number): Promise<Measured> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const rss = sampleRss();
  const started = performance.now();
  let last = started;
  const instance = autocannon({
    url,
    connections: concurrency,
    amount,
    timeout: DEADLINE_MS / 1000 + 30,
    requests: [
      {
        method: "POST",
        path: "/rerank",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(request(next++)) }),
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>; // the promise is also the event emitter
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
    latencies.push(responseTime);
    last = performance.now();
    if (process.env.SERVE_BENCH_DEBUG) console.log(`  response at ${fmt(last - started)} ms: ${fmt(responseTime)} ms`);
  });
  const result = await instance;
  if (result.errors > 0) statuses.set(-1, result.errors); // connection errors and timeouts
  const seconds = (last - started) / 1000;
  return {
    ...summarize(latencies, ((statuses.get(200) ?? 0) * CANDIDATES) / seconds, statuses, latencies),
    peakRssMb: rss.stop(),
  };
}

/** Samples the server's RSS every 200 ms until `stop()`, which returns the peak. */
function sampleRss(): { stop(): number } {
  let peak = serverRssMb();
  const timer = setInterval(() => {
    peak = Math.max(peak, serverRssMb());
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, serverRssMb());
    },
  };
}

/**
 * Open-loop load: a new request every 1/rate s for `seconds` (each on its own, whatever the others do), then waits
 * for all of them: what clients do when the server is slower than their traffic.
 */
async function runOpenLoop(rate: number, seconds: number): Promise<Measured> {
  const statuses = new Map<number, number>();
  const admitted: number[] = [];
  const latencies: number[] = [];
  const rss = sampleRss();
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let last = started;
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const body = JSON.stringify(request(next++));
    const t0 = performance.now();
    pending.push(
      fetch(`${url}/rerank`, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (response) => {
          await response.arrayBuffer();
          const ms = performance.now() - t0;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          latencies.push(ms);
          if (response.status === 200) {
            admitted.push(ms);
            last = performance.now();
          }
        })
        .catch(() => {
          statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
        }),
    );
  }
  await Promise.all(pending);
  const served = ((statuses.get(200) ?? 0) * CANDIDATES) / ((last - started) / 1000);
  return { ...summarize(latencies, served, statuses, admitted), peakRssMb: rss.stop() };
}

function summarize(latencies: number[], pairsPerS: number, statuses: Map<number, number>, admittedMs: number[]) {
  return { pairsPerS, p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), statuses, admittedMs };
}

const fmt = (x: number, digits = 0) => x.toFixed(digits);
const failures: string[] = [];
const rssBefore = serverRssMb();
console.log(`server RSS idle after warm-up: ${fmt(rssBefore)} MB`);

// Warm-up: a few full requests on each side (the model's first batches of each shape are slower).
await runInProcess(2, 4);
await runServer(2, 4);

// (a) side by side, interleaved: in-process then server, level by level, ROUNDS times.
const rows: { c: number; local: Measured[]; remote: Measured[] }[] = LEVELS.map((c) => ({ c, local: [], remote: [] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const row of rows) {
    const amount = Math.max(8, 2 * row.c);
    row.local.push(await runInProcess(row.c, amount));
    row.remote.push(await runServer(row.c, amount));
    const non200 = [...row.remote.at(-1)!.statuses].filter(([code]) => code !== 200);
    if (non200.length > 0) failures.push(`concurrency ${row.c}: answers other than 200: ${JSON.stringify(non200)}`);
  }
}
console.log(`\n(a) ${CANDIDATES}-candidate requests, medians of ${ROUNDS} interleaved rounds`);
console.log(
  "| concurrency | in-process pairs/s | server pairs/s | overhead (in/server) | in-process p50 / p95 ms | server p50 / p95 ms |",
);
console.log("|---|---|---|---|---|---|");
let capacityRps = 0;
for (const { c, local, remote } of rows) {
  const lp = median(local.map((m) => m.pairsPerS));
  const sp = median(remote.map((m) => m.pairsPerS));
  capacityRps = Math.max(capacityRps, sp / CANDIDATES);
  const spread = remote.map((m, i) => local[i].pairsPerS / m.pairsPerS);
  console.log(
    `| ${c} | ${fmt(lp)} | ${fmt(sp)} | ratio ${(lp / sp).toFixed(2)} (rounds ${spread.map((x) => x.toFixed(2)).join(", ")}) | ` +
      `${fmt(median(local.map((m) => m.p50)))} / ${fmt(median(local.map((m) => m.p95)))} | ` +
      `${fmt(median(remote.map((m) => m.p50)))} / ${fmt(median(remote.map((m) => m.p95)))} |`,
  );
}
const rssAfterA = serverRssMb();
console.log(
  `server RSS after (a): ${fmt(rssAfterA)} MB (peak ${fmt(Math.max(...rows.flatMap((r) => r.remote.map((m) => m.peakRssMb!))))} MB)`,
);

// (b) overload: 4× the capacity just measured, open loop, long enough that the queue overflows twice over (3/4 of
// what is offered cannot be served: after MAX_QUEUE / (3 × capacity) seconds the queue is full).
const offered = 4 * capacityRps;
const overloadSeconds = Math.max(OVERLOAD_SECONDS, Math.ceil((2 * MAX_QUEUE) / (3 * capacityRps)));
console.log(
  `\n(b) overload: ${offered.toFixed(1)} requests/s offered for ${overloadSeconds} s (4 × the measured capacity ` +
    `${capacityRps.toFixed(2)} requests/s), each request on its own`,
);
const overload = await runOpenLoop(offered, overloadSeconds);
const alive = server.exitCode === null && server.signalCode === null;
const health = alive ? (await fetch(`${url}/health`)).status : 0;
const rssAfterB = serverRssMb();
const counts = Object.fromEntries([...overload.statuses].map(([code, n]) => [code === -1 ? "errors" : code, n]));
// Admitted = answered 200; a request that waited past its deadline is answered 503 at the deadline.
const admittedP95 = overload.admittedMs.length ? quantile(overload.admittedMs, 0.95) : Number.NaN;
console.log(`answers: ${JSON.stringify(counts)}`);
console.log(
  `admitted (200): p50 ${fmt(quantile(overload.admittedMs, 0.5))} ms, p95 ${fmt(admittedP95)} ms (deadline ${DEADLINE_MS} ms); ` +
    `served ${fmt(overload.pairsPerS)} pairs/s`,
);
console.log(
  `server RSS: before (a) ${fmt(rssBefore)} MB, after (a) ${fmt(rssAfterA)} MB, peak in (b) ${fmt(overload.peakRssMb!)} MB, ` +
    `after (b) ${fmt(rssAfterB)} MB; alive ${alive}, /health ${health}`,
);
if (!alive || health !== 200) failures.push("the server did not survive the overload");
if (!(counts[429] > 0)) failures.push("no 429 under 4× overload: admission control did not act");
if ((counts.errors ?? 0) > 0) failures.push(`${counts.errors} connection errors/timeouts under overload`);
if (!(admittedP95 <= DEADLINE_MS))
  failures.push(`admitted p95 ${fmt(admittedP95)} ms over the ${DEADLINE_MS} ms deadline`);
// Flat: the overload's peak within 15% (and 100 MB) of the peak of ordinary load.
const ordinaryPeak = Math.max(...rows.flatMap((r) => r.remote.map((m) => m.peakRssMb!)));
if (overload.peakRssMb! > Math.max(ordinaryPeak * 1.15, ordinaryPeak + 100)) {
  failures.push(`memory grew under overload: peak ${fmt(overload.peakRssMb!)} MB vs ${fmt(ordinaryPeak)} MB under (a)`);
}

server.kill("SIGTERM");
await new Promise((resolve) => server.once("exit", resolve));
await inProcess.dispose();
console.log(
  failures.length
    ? `\nFAILED:\n- ${failures.join("\n- ")}`
    : "\noverload targets met: 429s, admitted within deadline, memory flat, no crash",
);
process.exit(failures.length ? 1 : 0);
