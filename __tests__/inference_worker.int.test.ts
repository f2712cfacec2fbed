import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { InvalidArgumentError, ModelLoadError, TwoStageError } from "../src/errors.js";
import { resolveModelSource } from "../src/models/model_source.js";
import { CrossEncoderCompressor } from "../src/rerank/cross_encoder_compressor.js";
import { InferenceHost, inferenceHost } from "../src/inference/inference_host.js";
import { loadWorkerSequenceModel } from "../src/inference/worker_sequence_model.js";
import { buildBertModel } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { type TestModels, buildTestModels } from "./support/models.js";
import { local, runtime } from "./support/runtime.js";

const { env } = runtime;

let models: TestModels;
const QUERIES = ["Where is the Eiffel Tower?", "how do plants make glucose", "vector similarity search"];
const LOCAL = { quantized: true, localFilesOnly: true };

beforeAll(() => {
  models = buildTestModels();
});
afterAll(() => models.cleanup());

/** The nice value of each thread of this process, by thread id (Linux). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of fs.readdirSync("/proc/self/task")) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      nices.set(Number(tid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch {
      // the thread ended while we listed them
    }
  }
  return nices;
}

/** A one-row batch for the lexical cross-encoder, as the worker protocol carries it. */
function oneRow(rows = 1) {
  const ids = BigInt64Array.from([2n, 5n, 3n]);
  return {
    input_ids: { type: "int64", data: ids, dims: [rows, 3] },
    attention_mask: { type: "int64", data: new BigInt64Array(3).fill(1n), dims: [1, 3] },
    token_type_ids: { type: "int64", data: new BigInt64Array(3), dims: [1, 3] },
  };
}

describe("cross-encoder inference in a worker thread", () => {
  test.each([
    ["1 logit", () => models.crossEncoder],
    ["2 labels", () => models.crossEncoder2],
  ])("scores exactly as on the caller's thread (%s)", async (_name, dir) => {
    const inWorker = new CrossEncoderCompressor({ model: dir(), batchSize: 4 });
    const onCaller = new CrossEncoderCompressor({ model: dir(), batchSize: 4, inferenceWorker: false });
    try {
      for (const query of QUERIES) {
        const worker = await inWorker.score(query, TEST_CORPUS);
        expect(worker).toEqual(await onCaller.score(query, TEST_CORPUS));
        expect(new Set(worker).size).toBeGreaterThan(5); // real, distinct scores
      }
      expect(inWorker.lastStats!.batches).toBeGreaterThan(3);
    } finally {
      await Promise.all([inWorker.dispose(), onCaller.dispose()]);
    }
  });

  test("concurrent calls, on one reranker and on two, each get their own scores", async () => {
    const a = new CrossEncoderCompressor({ model: models.crossEncoder, batchSize: 3 });
    const b = new CrossEncoderCompressor({ model: models.crossEncoder2, batchSize: 5 });
    try {
      const sequential = [];
      for (const query of QUERIES)
        sequential.push(await a.score(query, TEST_CORPUS), await b.score(query, TEST_CORPUS));
      const concurrent = await Promise.all(
        QUERIES.flatMap((query) => [a.score(query, TEST_CORPUS), b.score(query, TEST_CORPUS)]),
      );
      expect(concurrent).toEqual(sequential);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  test("dispose releases the model; the next call loads it again and scores the same", async () => {
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
    const first = await reranker.score(QUERIES[0], TEST_CORPUS);
    for (let cycle = 0; cycle < 3; cycle++) {
      await reranker.dispose();
      expect(await reranker.score(QUERIES[0], TEST_CORPUS)).toEqual(first);
    }
    await reranker.dispose();
  });

  test("a released handle is refused in the worker's host", async () => {
    const host = await inferenceHost(0);
    const { handle } = await host.load(runtime, local(models.crossEncoder), LOCAL);
    expect((await host.run(handle, oneRow())).dims).toEqual([1, 1]);
    host.release(handle);
    await expect(host.run(handle, oneRow())).rejects.toThrow(`session handle ${handle} was released`);
    expect(host.alive).toBe(true);
  });

  test.each([path.join("onnx", "model_quantized.onnx"), "tokenizer.json"])(
    "a model whose %s cannot be loaded is a ModelLoadError, and loads once it is fixed",
    async (file) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-broken-"));
      try {
        fs.cpSync(models.crossEncoder, dir, { recursive: true });
        const good = fs.readFileSync(path.join(dir, file));
        fs.writeFileSync(path.join(dir, file), "{ not what it should be");
        const reranker = new CrossEncoderCompressor({ model: dir });
        const error = await reranker.score("query", ["text"]).catch((e: unknown) => e);
        expect(ModelLoadError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(`Could not load cross-encoder '${dir}'`);
        fs.writeFileSync(path.join(dir, file), good);
        expect(await reranker.score("query", ["text"])).toHaveLength(1);
        await reranker.dispose();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("the worker reads models where the caller's transformers.js settings say (env.localModelPath)", async () => {
    const before = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels };
    // An id that is no folder here nor in the model directory goes to transformers.js, which looks under
    // env.localModelPath before the hub: the worker finds it there only with the caller's setting.
    Object.assign(env, { localModelPath: models.root, allowRemoteModels: true });
    try {
      expect(resolveModelSource("cross-encoder", true)).toEqual({ id: "cross-encoder", localFilesOnly: false });
      const inWorker = new CrossEncoderCompressor({ model: "cross-encoder" });
      const direct = new CrossEncoderCompressor({ model: models.crossEncoder, inferenceWorker: false });
      expect(await inWorker.score(QUERIES[0], TEST_CORPUS)).toEqual(await direct.score(QUERIES[0], TEST_CORPUS));
      await Promise.all([inWorker.dispose(), direct.dispose()]);
    } finally {
      Object.assign(env, before);
    }
  });

  test("a batch the model rejects fails that call only, naming its shape; the worker goes on", async () => {
    const model = await loadWorkerSequenceModel({
      runtime,
      location: local(models.crossEncoder),
      options: LOCAL,
      nice: 0,
    });
    const error = await model(oneRow(2) as never).catch((e: unknown) => e);
    expect(TwoStageError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("The cross-encoder failed on a batch of shape 2 × 3: ");
    const ok = await model(oneRow() as never);
    expect(ok.logits.dims).toEqual([1, 1]);
    expect(Number.isFinite(ok.logits.data[0])).toBe(true);
    await model.dispose?.();
    await expect(model(oneRow() as never)).rejects.toThrow("was disposed");
  });

  test("a worker that stops fails what is pending and every later request, saying what to do", async () => {
    const script = path.join(models.root, "stops_on_run.mjs");
    fs.writeFileSync(
      script,
      [
        `import { parentPort } from "node:worker_threads";`,
        `parentPort.on("message", (request) => {`,
        `  if (request.type === "load") parentPort.postMessage({ type: "loaded", session: request.session, config: {} });`,
        `  else if (request.type === "run") process.exit(3);`,
        `});`,
      ].join("\n"),
    );
    const host = new InferenceHost(0, new URL(`file://${script}`));
    const model = await loadWorkerSequenceModel({ runtime, location: { id: "unused" }, options: LOCAL, nice: 0 }, host);
    const error = await model(oneRow() as never).catch((e: unknown) => e);
    expect(TwoStageError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^The inference worker exited with code 3\. .*restart the process, or pass inferenceWorker: false/,
    );
    expect(host.alive).toBe(false);
    await expect(host.load(runtime, { id: "unused" }, LOCAL)).rejects.toBe(error);
  });

  test("bad texts are refused before anything reaches the worker, naming them", async () => {
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
    await expect(reranker.score("q", "one text" as never)).rejects.toThrow(
      'texts must be an array of strings; got the string "one text". Wrap a single text: score(query, [text]).',
    );
    await expect(reranker.score("q", [42] as never)).rejects.toThrow("texts[0] is number 42, not a string");
    await reranker.dispose();
  });

  test("refuses bad inferenceWorker and inferenceNice values, naming them", () => {
    expect(() => new CrossEncoderCompressor({ inferenceWorker: "yes" as never })).toThrow(
      'inferenceWorker must be true or false; got the string "yes"',
    );
    for (const nice of [-1, 20, 2.5]) {
      let error: unknown;
      try {
        new CrossEncoderCompressor({ inferenceNice: nice });
      } catch (e) {
        error = e;
      }
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe("inferenceNice");
    }
  });

  test("on Linux the inference threads run at a lower priority; every other thread keeps its own", async () => {
    if (process.platform !== "linux") return; // per-thread priorities are a Linux feature; elsewhere nothing changes
    const existing = threadNices();
    const base = os.getPriority(process.pid);
    // A priority no other test uses: a worker of its own, started here.
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, inferenceNice: 7 });
    try {
      await reranker.score(QUERIES[0], TEST_CORPUS);
      const now = threadNices();
      for (const [tid, nice] of existing) if (now.has(tid)) expect([tid, now.get(tid)]).toEqual([tid, nice]);
      const started = [...now].filter(([tid]) => !existing.has(tid));
      const lowered = started.filter(([, nice]) => nice === Math.min(19, base + 7));
      // The worker's own thread and ONNX Runtime's pool threads.
      expect(lowered.length).toBeGreaterThanOrEqual(Math.min(2, os.cpus().length));
    } finally {
      await reranker.dispose();
    }
  });
});

describe("the event loop during a rerank", () => {
  let dir: string;
  const texts = Array.from({ length: 32 }, (_, i) =>
    Array.from({ length: 30 }, (_, j) => TEST_CORPUS[(i + j) % TEST_CORPUS.length]).join(" "),
  );

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-minilm-l2-"));
    await buildBertModel(dir, { preset: "minilm-l2", head: "classification", quantize: true, corpus: TEST_CORPUS });
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Share of the rerank's wall time the event loop spent running code (event-loop utilisation). */
  async function busyShare(reranker: CrossEncoderCompressor): Promise<number> {
    await reranker.score("warm up", texts.slice(0, 2));
    const before = performance.eventLoopUtilization();
    await reranker.score("where is the tower in paris", texts);
    return performance.eventLoopUtilization(before).utilization;
  }

  test("is mostly free with the worker, and busy throughout with the model on the caller's thread", async () => {
    const inWorker = new CrossEncoderCompressor({ model: dir, maxLength: 256 });
    const onCaller = new CrossEncoderCompressor({ model: dir, maxLength: 256, inferenceWorker: false });
    try {
      const worker = await busyShare(inWorker);
      const caller = await busyShare(onCaller);
      expect(inWorker.lastStats!.tokens).toBeGreaterThanOrEqual(32 * 150); // long pairs: the model dominates the cost
      expect(worker).toBeLessThan(0.5);
      expect(caller).toBeGreaterThan(0.8);
    } finally {
      await Promise.all([inWorker.dispose(), onCaller.dispose()]);
    }
  }, 60_000);
});

test("a script that never disposes its reranker still exits when it is done", () => {
  const script = path.join(models.root, "never_disposed.mts");
  fs.writeFileSync(
    script,
    [
      `import { CrossEncoderCompressor } from ${JSON.stringify(path.resolve("src/rerank/cross_encoder_compressor.ts"))};`,
      `const reranker = new CrossEncoderCompressor({ model: ${JSON.stringify(models.crossEncoder)} });`,
      `const scores = await reranker.score("Where is the Eiffel Tower?", ["The Eiffel Tower is in Paris.", "Bananas."]);`,
      `console.log(JSON.stringify(scores));`,
    ].join("\n"),
  );
  const child = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8", timeout: 20_000 });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0); // a hang is killed at 20 s: status null
  expect(JSON.parse(child.stdout)).toHaveLength(2);
});
