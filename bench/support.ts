import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

import { documentText } from "../src/eval/beir_dataset.js";
import { buildBertModel, type BuildBertModelParams } from "../src/testing/index.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DATASETS = path.resolve(REPO_ROOT, "..", "shared", "datasets");
export const MODEL_CACHE = path.join(REPO_ROOT, ".cache", "models");

/** Builds a BERT benchmark model into `.cache/models` once; later runs reuse it (the spec is the cache key). */
export async function cachedBertModel(params: BuildBertModelParams): Promise<{ dir: string; buildMs?: number }> {
  const key = `${params.preset}-${params.head}-seed${params.seed ?? 0}${params.quantize ? "-q" : ""}${params.corpus ? `-c${params.corpus.length}` : ""}`;
  const dir = path.join(MODEL_CACHE, key);
  if (fs.existsSync(path.join(dir, "config.json"))) return { dir };
  const started = performance.now();
  await buildBertModel(dir, params);
  return { dir, buildMs: performance.now() - started };
}

/** Reads `corpus.jsonl` of a BEIR-layout dataset: each document's text by the one rule, `documentText`. */
export function readCorpusTexts(dataset: string): string[] {
  const file = path.join(DATASETS, dataset, "corpus.jsonl");
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => {
      const doc = JSON.parse(line) as { _id?: unknown; title?: string; text?: string };
      return documentText({ id: String(doc._id), title: doc.title ?? "", text: doc.text ?? "" });
    });
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One line describing the machine, for benchmark reports. */
export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores, ${cpus[0]?.model ?? "unknown CPU"}, Node ${process.version}`;
}

/** What {@link watchEventLoop} saw. */
export interface EventLoopWatch {
  /**
   * Longest on-CPU time of the event loop's thread between two ticks of the timer (Linux: the thread's
   * `schedstat`), i.e. the longest stretch of code it ran without letting the timer in, not counting time the
   * thread was ready but not running. NaN where `/proc` has no per-thread `schedstat`.
   */
  maxCpuMs: number;
  /** Longest time the loop was busy (running code, not waiting for events) between two ticks of the timer. */
  maxBusyMs: number;
  /** Longest time between two ticks: also counts time the thread was ready but not running (the machine's stalls). */
  maxDelayMs: number;
}

/**
 * Watches the event loop with a 1 ms timer until `stop()`. Busy time comes from event-loop utilisation (libuv's
 * time outside its poll wait), so a stall of the whole machine while the loop waits is not counted as a block; a
 * stall while it runs code is, which the on-CPU time is not.
 */
export function watchEventLoop(): { stop(): EventLoopWatch } {
  const schedstat = `/proc/self/task/${process.pid}/schedstat`;
  const cpuMs = fs.existsSync(schedstat)
    ? () => Number(fs.readFileSync(schedstat, "utf8").split(" ")[0]) / 1e6
    : () => Number.NaN;
  const seen: EventLoopWatch = { maxCpuMs: 0, maxBusyMs: 0, maxDelayMs: 0 };
  let lastTick = performance.now();
  let lastUse = performance.eventLoopUtilization();
  let lastCpu = cpuMs();
  const timer = setInterval(() => {
    const now = performance.now();
    const use = performance.eventLoopUtilization();
    const cpu = cpuMs();
    seen.maxCpuMs = Math.max(seen.maxCpuMs, cpu - lastCpu);
    lastCpu = cpu;
    seen.maxBusyMs = Math.max(seen.maxBusyMs, use.active - lastUse.active);
    seen.maxDelayMs = Math.max(seen.maxDelayMs, now - lastTick);
    lastTick = now;
    lastUse = use;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return { ...seen };
    },
  };
}

/**
 * The machine's own stalls: the longest delay of a 1 ms timer while `threads` other threads spin for `ms` (no model,
 * no I/O). On a virtual machine whose cores are all busy this shows the hypervisor's pauses.
 */
export async function machineStallMs(threads: number, ms: number): Promise<number> {
  const watch = watchEventLoop();
  const spin = `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  await Promise.all(
    Array.from(
      { length: threads },
      () => new Promise((resolve) => new Worker(spin, { eval: true }).on("exit", resolve)),
    ),
  );
  return watch.stop().maxDelayMs;
}
