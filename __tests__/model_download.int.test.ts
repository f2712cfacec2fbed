// The download path, offline: a loopback HTTP server serves model folders in the hub's URL layout
// (`<remoteHost>/<org>/<name>/resolve/<revision>/<file>`, transformers.js' `env.remoteHost` and
// `env.remotePathTemplate`). Downloads land in the default model directory (outside node_modules), report progress
// through `onProgress`, and a later load finds the model there by id, offline.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { RunnableLambda } from "@langchain/core/runnables";

import { CrossEncoderCompressor, PROGRESS_EVENT, TransformersEmbeddings, defaultModelDirectory } from "../src/index.js";
import type { ProgressEvent } from "../src/models/types.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { runtime } from "./support/runtime.js";

const served = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-hub-"));
buildLexicalBiEncoder(path.join(served, "test-org", "tiny-bi"), { corpus: TEST_CORPUS });
buildLexicalCrossEncoder(path.join(served, "test-org", "tiny-ce"), { corpus: TEST_CORPUS });

const requests: string[] = [];
const server = http.createServer((request, response) => {
  requests.push(`${request.method} ${request.url}`);
  const match = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent(request.url ?? ""));
  const file = match && path.join(served, match[1], match[2]);
  if (!file || !file.startsWith(served) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404).end("not found");
    return;
  }
  response.writeHead(200, { "content-length": fs.statSync(file).size, "content-type": "application/octet-stream" });
  if (request.method === "HEAD") response.end();
  else fs.createReadStream(file).pipe(response);
});
const saved = { remoteHost: runtime.env.remoteHost, allowRemoteModels: runtime.env.allowRemoteModels };

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  runtime.env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  runtime.env.allowRemoteModels = true;
});
afterAll(async () => {
  Object.assign(runtime.env, saved);
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(served, { recursive: true, force: true });
});

describe(`model downloads (${runtime.name}, loopback hub)`, () => {
  test("an embedding model downloads into the default model directory with progress; later loads are offline", async () => {
    const modelDir = defaultModelDirectory(); // this test file's own folder (support/onnx_environment.cjs)
    expect(modelDir).not.toContain("node_modules");
    const events: ProgressEvent[] = [];
    const embeddings = new TransformersEmbeddings({ model: "test-org/tiny-bi", onProgress: (e) => events.push(e) });
    const texts = [...TEST_CORPUS, ...TEST_CORPUS].slice(0, 40);
    const onlineVectors = await embeddings.embedDocuments(texts);
    await embeddings.dispose();

    const downloads = events.filter((e) => e.phase === "download");
    // Per-file events (4 also reports totals over all files, without a file name).
    const files = new Set(downloads.flatMap((e) => (e.phase === "download" && e.file ? [e.file] : [])));
    expect(files).toEqual(
      new Set(["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model_quantized.onnx"]),
    );
    expect(
      downloads.some((e) => e.phase === "download" && e.status === "done" && e.file === "onnx/model_quantized.onnx"),
    ).toBe(true);
    expect(requests.some((r) => r.endsWith("/test-org/tiny-bi/resolve/main/onnx/model_quantized.onnx"))).toBe(true);
    for (const file of ["config.json", "tokenizer.json", "onnx/model_quantized.onnx"]) {
      expect(fs.existsSync(path.join(modelDir, "test-org", "tiny-bi", file))).toBe(true);
    }
    // Embedding progress: one event per batch, ending at the number of texts.
    const embedded = events.filter((e) => e.phase === "embed");
    expect(embedded.at(-1)).toEqual({ phase: "embed", done: 40, total: 40 });
    expect(embedded.map((e) => (e.phase === "embed" ? e.done : 0))).toEqual(
      [...embedded.map((e) => (e.phase === "embed" ? e.done : 0))].sort((a, b) => a - b),
    );

    // The server is no longer asked: the model is a folder of the model directory now, found by id, offline.
    const before = requests.length;
    const offline = new TransformersEmbeddings({ model: "test-org/tiny-bi", offline: true });
    const offlineVectors = await offline.embedDocuments(texts);
    await offline.dispose();
    expect(requests.length).toBe(before);
    offlineVectors.forEach((vector, i) => vector.forEach((v, j) => expect(v).toBeCloseTo(onlineVectors[i][j], 6)));
  });

  test("a cross-encoder loaded in the inference worker reports its download too, and scores", async () => {
    const events: ProgressEvent[] = [];
    const reranker = new CrossEncoderCompressor({ model: "test-org/tiny-ce", onProgress: (e) => events.push(e) });
    const query = "carbon dioxide oxygen climate glucose";
    const scores = await reranker.score(query, TEST_CORPUS);
    await reranker.dispose();
    // The same scores as the served folder loaded from disk.
    const direct = new CrossEncoderCompressor({ model: path.join(served, "test-org", "tiny-ce") });
    expect(scores).toEqual(await direct.score(query, TEST_CORPUS));
    await direct.dispose();
    expect(new Set(scores.map((s) => s.toFixed(3))).size).toBeGreaterThan(3);
    const files = new Set(events.map((e) => (e.phase === "download" ? e.file : undefined)));
    expect(files.has("onnx/model_quantized.onnx")).toBe(true); // from the worker's load
    expect(files.has("tokenizer.json")).toBe(true); // from this thread's
    expect(
      fs.existsSync(path.join(defaultModelDirectory(), "test-org", "tiny-ce", "onnx", "model_quantized.onnx")),
    ).toBe(true);
  });

  test("a model the hub does not have fails naming it; nothing is left half-written as a model folder", async () => {
    const embeddings = new TransformersEmbeddings({ model: "test-org/missing" });
    await expect(embeddings.embedQuery("x")).rejects.toThrow(
      /Could not load embedding model 'test-org\/missing' from the hub/,
    );
    expect(fs.existsSync(path.join(defaultModelDirectory(), "test-org", "missing", "onnx"))).toBe(false);
  });

  test("inside a LangChain run, downloads and embedding progress reach its callbacks as custom events", async () => {
    const received: { name: string; event: ProgressEvent }[] = [];
    const handler = {
      handleCustomEvent: (name: string, event: ProgressEvent) => void received.push({ name, event }),
    };
    const embeddings = new TransformersEmbeddings({ model: "test-org/tiny-bi", localModelRoot: served + "-cache" });
    const embed = RunnableLambda.from((texts: string[]) => embeddings.embedDocuments(texts));
    await embed.invoke([...TEST_CORPUS], { callbacks: [handler] });
    await embeddings.dispose();
    fs.rmSync(served + "-cache", { recursive: true, force: true });
    expect(new Set(received.map((r) => r.name))).toEqual(new Set([PROGRESS_EVENT]));
    expect(received.some((r) => r.event.phase === "download" && r.event.file === "onnx/model_quantized.onnx")).toBe(
      true,
    );
    expect(received.at(-1)?.event).toEqual({ phase: "embed", done: TEST_CORPUS.length, total: TEST_CORPUS.length });
  });
});
