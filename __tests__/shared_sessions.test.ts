import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor, TransformersEmbeddings } from "../src/index.js";
import { resolveModelSource } from "../src/models/model_source.js";
import { featureExtractionCounts } from "../src/inference/feature_extraction_sessions.js";
import { callerSessionCounts, loadCallerSequenceModel } from "../src/inference/caller_sequence_model.js";
import { inferenceHost } from "../src/inference/inference_host.js";
import { IDLE_SESSIONS, SharedSessions } from "../src/inference/shared_sessions.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { local, runtime } from "./support/runtime.js";

const QUERY = "Where is the Eiffel Tower?";
const LOCAL = { quantized: true, localFilesOnly: true };
const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-shared-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let made = 0;
/** A cross-encoder in a folder of its own (a model file no other test has loaded). */
function crossEncoder(corpus: readonly string[] = TEST_CORPUS): string {
  const dir = path.join(root, `cross-${made++}`);
  buildLexicalCrossEncoder(dir, { corpus });
  return dir;
}

/** The same reranker on the caller's thread, loaded and disposed: the reference scores. */
async function referenceScores(dir: string): Promise<number[]> {
  const reference = new CrossEncoderCompressor({ model: dir, inferenceWorker: false });
  try {
    return await reference.score(QUERY, TEST_CORPUS);
  } finally {
    await reference.dispose();
  }
}

describe("one ONNX Runtime session per model file in the inference worker", () => {
  test("two rerankers of one file share one session, each through its own handle; disposing one leaves the other", async () => {
    const dir = crossEncoder();
    const expected = await referenceScores(dir);
    const host = await inferenceHost(0);
    const before = host.sessionCounts();
    const a = new CrossEncoderCompressor({ model: dir });
    const b = new CrossEncoderCompressor({ model: dir });
    const [fromA, fromB] = await Promise.all([a.score(QUERY, TEST_CORPUS), b.score(QUERY, TEST_CORPUS)]);
    expect(fromA).toEqual(expected); // bit-identical to the caller's thread
    expect(fromB).toEqual(expected);
    expect(host.sessionCounts()).toEqual({ ...before, sessions: before.sessions + 1, handles: before.handles + 2 });

    await a.dispose();
    expect(await b.score(QUERY, TEST_CORPUS)).toEqual(expected);
    expect(host.sessionCounts()).toEqual({ ...before, sessions: before.sessions + 1, handles: before.handles + 1 });
    // A disposed reranker loads again on its next call: a new handle on the same session.
    expect(await a.score(QUERY, TEST_CORPUS)).toEqual(expected);
    expect(host.sessionCounts()).toEqual({ ...before, sessions: before.sessions + 1, handles: before.handles + 2 });
    await Promise.all([a.dispose(), b.dispose()]);
    expect(host.sessionCounts().handles).toBe(before.handles);
  });

  test("a released handle is refused; another handle on the same session goes on", async () => {
    const host = await inferenceHost(0);
    const location = resolveModelSource(crossEncoder(), true);
    const before = host.sessionCounts();
    const first = await host.load(runtime, location, LOCAL);
    const second = await host.load(runtime, location, LOCAL);
    expect(second.handle).not.toBe(first.handle);
    expect(host.sessionCounts().sessions).toBe(before.sessions + 1); // one session, two handles
    const row = {
      input_ids: { type: "int64", data: BigInt64Array.from([2n, 5n, 3n]), dims: [1, 3] },
      attention_mask: { type: "int64", data: new BigInt64Array(3).fill(1n), dims: [1, 3] },
      token_type_ids: { type: "int64", data: new BigInt64Array(3), dims: [1, 3] },
    };
    const logits = await host.run(first.handle, row);
    host.release(first.handle);
    host.release(first.handle); // twice: the second is a no-op, the other handle's share stays
    await expect(host.run(first.handle, row)).rejects.toThrow(`session handle ${first.handle} was released`);
    const again = await host.run(second.handle, row);
    expect([again.data, again.dims]).toEqual([logits.data, logits.dims]);
    host.release(second.handle);
  });

  test("after every holder is disposed the session idles for the next reranker; at most IDLE_SESSIONS idle", async () => {
    const host = await inferenceHost(0);
    const dirs = [crossEncoder(), crossEncoder(), crossEncoder()];
    for (const dir of dirs) {
      const reranker = new CrossEncoderCompressor({ model: dir });
      await reranker.score(QUERY, TEST_CORPUS.slice(0, 3));
      await reranker.dispose();
    }
    const idle = host.sessionCounts();
    expect(idle.idle).toBe(IDLE_SESSIONS);
    // The most recently released file is served from its idle session: no load, one idle session fewer.
    const again = new CrossEncoderCompressor({ model: dirs[2] });
    expect(await again.score(QUERY, TEST_CORPUS)).toEqual(await referenceScores(dirs[2]));
    expect(host.sessionCounts()).toEqual({ sessions: idle.sessions, idle: idle.idle - 1, handles: idle.handles + 1 });
    await again.dispose();
    expect(host.sessionCounts()).toEqual(idle);
    // The least recently released one was dropped: loading it is a new session (and the oldest idle one goes).
    const dropped = new CrossEncoderCompressor({ model: dirs[0] });
    await dropped.score(QUERY, TEST_CORPUS.slice(0, 3));
    expect(host.sessionCounts()).toEqual({ sessions: idle.sessions + 1, idle: idle.idle, handles: idle.handles + 1 });
    await dropped.dispose();
    expect(host.sessionCounts()).toEqual(idle);
  });

  test("a model file replaced at the same path is loaded fresh; a holder of the old session keeps its scores", async () => {
    const dir = crossEncoder();
    const host = await inferenceHost(0);
    const holder = new CrossEncoderCompressor({ model: dir });
    const disposed = new CrossEncoderCompressor({ model: dir });
    const old = await holder.score(QUERY, TEST_CORPUS);
    expect(await disposed.score(QUERY, TEST_CORPUS)).toEqual(old);
    await disposed.dispose();
    const before = host.sessionCounts();

    buildLexicalCrossEncoder(dir, { corpus: TEST_CORPUS.slice(0, 12) }); // other weights, same paths
    const replaced = await referenceScores(dir);
    expect(replaced).not.toEqual(old);
    const fresh = new CrossEncoderCompressor({ model: dir });
    expect(await fresh.score(QUERY, TEST_CORPUS)).toEqual(replaced);
    expect(await disposed.score(QUERY, TEST_CORPUS)).toEqual(replaced); // reloads: the new file, not the old session
    expect(host.sessionCounts()).toEqual({ ...before, sessions: before.sessions + 1, handles: before.handles + 2 });
    expect(await holder.score(QUERY, TEST_CORPUS)).toEqual(old);
    await Promise.all([holder.dispose(), disposed.dispose(), fresh.dispose()]);
  });
});

describe("one model per file on the caller's thread, and one pipeline per embedding model", () => {
  test("rerankers with inferenceWorker: false share one model; disposing one leaves the other; the next one reuses it", async () => {
    const dir = crossEncoder();
    const before = callerSessionCounts();
    const a = new CrossEncoderCompressor({ model: dir, inferenceWorker: false });
    const b = new CrossEncoderCompressor({ model: dir, inferenceWorker: false });
    const [fromA, fromB] = await Promise.all([a.score(QUERY, TEST_CORPUS), b.score(QUERY, TEST_CORPUS)]);
    expect(fromB).toEqual(fromA);
    expect(callerSessionCounts()).toEqual({ sessions: before.sessions + 1, idle: before.idle });
    await a.dispose();
    expect(await b.score(QUERY, TEST_CORPUS)).toEqual(fromA);
    await b.dispose();
    const idle = callerSessionCounts();
    expect(idle.idle).toBe(Math.min(IDLE_SESSIONS, before.idle + 1));
    const again = new CrossEncoderCompressor({ model: dir, inferenceWorker: false });
    expect(await again.score(QUERY, TEST_CORPUS)).toEqual(fromA); // from the idle model: nothing loaded
    expect(callerSessionCounts()).toEqual({ sessions: idle.sessions, idle: idle.idle - 1 });
    await again.dispose();
  });

  test("a disposed caller's-thread model refuses its calls; another holder of the same model goes on", async () => {
    const location = local(crossEncoder());
    const before = callerSessionCounts();
    const [first, second] = await Promise.all([
      loadCallerSequenceModel(runtime, location, LOCAL),
      loadCallerSequenceModel(runtime, location, LOCAL),
    ]);
    expect(callerSessionCounts().sessions).toBe(before.sessions + 1); // one model, two holders
    const row = {
      input_ids: runtime.tensor("int64", BigInt64Array.from([2n, 5n, 3n]), [1, 3]),
      attention_mask: runtime.tensor("int64", new BigInt64Array(3).fill(1n), [1, 3]),
      token_type_ids: runtime.tensor("int64", new BigInt64Array(3), [1, 3]),
    };
    const { logits } = await first(row);
    await first.dispose?.();
    await expect(first(row)).rejects.toThrow("This cross-encoder model was disposed.");
    expect(Array.from((await second(row)).logits.data)).toEqual(Array.from(logits.data));
    await second.dispose?.();
  });

  test("embeddings of one model share one pipeline; disposing one leaves the other; a replaced model is loaded fresh", async () => {
    const dir = path.join(root, "bi-encoder");
    buildLexicalBiEncoder(dir, { corpus: TEST_CORPUS });
    const before = featureExtractionCounts();
    const a = new TransformersEmbeddings({ model: dir });
    const b = new TransformersEmbeddings({ model: dir });
    const [fromA, fromB] = await Promise.all([a.embedDocuments([...TEST_CORPUS]), b.embedDocuments([...TEST_CORPUS])]);
    expect(fromB).toEqual(fromA);
    expect(featureExtractionCounts()).toEqual({ sessions: before.sessions + 1, idle: before.idle });
    await a.dispose();
    expect(await b.embedDocuments([...TEST_CORPUS])).toEqual(fromA);
    await b.dispose();
    expect(featureExtractionCounts()).toEqual({ sessions: before.sessions + 1, idle: before.idle + 1 });
    expect(await a.embedQuery(TEST_CORPUS[3])).toEqual(await b.embedQuery(TEST_CORPUS[3])); // the idle pipeline
    expect(featureExtractionCounts()).toEqual({ sessions: before.sessions + 1, idle: before.idle });

    buildLexicalBiEncoder(dir, { corpus: TEST_CORPUS.slice(0, 12) });
    const c = new TransformersEmbeddings({ model: dir });
    expect(await c.embedQuery(TEST_CORPUS[3])).not.toEqual(await a.embedQuery(TEST_CORPUS[3]));
    expect(featureExtractionCounts().sessions).toBe(before.sessions + 2);
    await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
  });
});

describe("SharedSessions", () => {
  test("concurrent acquires share one load; the last release idles it; the least recently released idle one goes first", async () => {
    const dropped: string[] = [];
    let loads = 0;
    const sessions = new SharedSessions<string>(1, (value) => dropped.push(value));
    const load = (value: string) => async () => {
      loads += 1;
      return value;
    };
    const [x1, x2] = await Promise.all([sessions.acquire("x", load("x")), sessions.acquire("x", load("x?"))]);
    expect([x1.value, x2.value, loads, sessions.size]).toEqual(["x", "x", 1, 1]);
    x1.release();
    x1.release();
    expect(sessions.idleCount).toBe(0); // x2 still holds it
    x2.release();
    expect([sessions.size, sessions.idleCount, dropped]).toEqual([1, 1, []]);
    const x3 = await sessions.acquire("x", load("x?"));
    expect([x3.value, loads, sessions.idleCount]).toEqual(["x", 1, 0]);
    const y = await sessions.acquire("y", load("y"));
    y.release();
    x3.release(); // x is now the most recently released: y leaves the cache
    await Promise.resolve();
    expect([sessions.size, dropped]).toEqual([1, ["y"]]);
    const unkeyed = await sessions.acquire(undefined, load("u"));
    unkeyed.release();
    expect([sessions.size, dropped]).toEqual([1, ["y", "u"]]);
  });

  test("a failed load is not cached: the next acquire loads again", async () => {
    const sessions = new SharedSessions<number>(2, () => undefined);
    await expect(sessions.acquire("k", () => Promise.reject(new Error("broken file")))).rejects.toThrow("broken file");
    expect(sessions.size).toBe(0);
    expect((await sessions.acquire("k", async () => 7)).value).toBe(7);
  });
});
