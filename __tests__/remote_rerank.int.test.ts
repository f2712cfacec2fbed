// `two-stage serve` and RemoteReranker together, over loopback: our remote model against our own server (raw
// logits equal the local model's), TEI's and Cohere's shapes (with cohere-ai's own CohereClient and CohereClientV2
// pointed at the server, and LangChain's CohereRerank on such a client), the API key, admission control, cancellation, a remote stage in a cascade and a retriever,
// and a server killed mid-request (the retriever falls back with the reason, never hangs).
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { CohereRerank } from "@langchain/cohere";
import { CohereClient, CohereClientV2 } from "cohere-ai";

import {
  CascadeCompressor,
  CrossEncoderCompressor,
  RemoteReranker,
  RemoteServiceError,
  TransformersEmbeddings,
  TwoStageRetriever,
  evaluate,
  loadBeirDataset,
} from "../src/index.js";
import type { RecallSource } from "../src/index.js";
import { type RerankServer, startRerankServer } from "../src/serve.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { buildTestModels } from "./support/models.js";

const KEY = "loopback-test-key-0123456789";
const QUERY = "cross-encoder reranker attention passage";
const models = buildTestModels();
let server: RerankServer;
/** Texts per request the servers take: enough for a request the lexical models score for a second or more. */
const MAX_TEXTS = 20_000;
/** `count` distinct texts (the lexical models score some 7,000 pairs a second on 2 cores). */
const manyTexts = (count: number) =>
  Array.from({ length: count }, (_, i) => `${TEST_CORPUS[i % TEST_CORPUS.length]} copy ${i}`);

/** A stage 1 that returns the given documents in order (higher score first). */
function listSource(docs: Document[]): RecallSource {
  return {
    name: "list",
    scoreKind: "list",
    async recall(_query: string, k: number) {
      return docs.slice(0, k).map((document, i) => ({ document, score: docs.length - i }));
    },
  } as unknown as RecallSource;
}

beforeAll(async () => {
  server = await startRerankServer({
    reranker: { model: models.crossEncoder },
    embeddings: { model: models.biEncoder },
    port: 0,
    apiKey: KEY,
    maxTexts: MAX_TEXTS,
  });
});
afterAll(async () => {
  await server?.close();
  models.cleanup();
});

/** POSTs JSON with `Authorization: Bearer <key>`; `null` sends no key. */
const post = (url: string, body: unknown, key: string | null = KEY) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

async function pairsScored(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
  return Number(/^two_stage_pairs_scored_total (\d+)$/m.exec(text)![1]);
}

describe("RemoteReranker against two-stage serve", () => {
  test("round trip: raw logits equal the local model's within 1e-5; sigmoid scores equal the local default", async () => {
    const texts = [...TEST_CORPUS];
    const local = new CrossEncoderCompressor({ model: models.crossEncoder, activation: "none" });
    const localDefault = new CrossEncoderCompressor({ model: models.crossEncoder });
    const raw = new RemoteReranker({ url: server.url, apiKey: KEY, activation: "none" });
    const remote = new RemoteReranker({ url: server.url, apiKey: KEY });
    try {
      const [want, got] = [await local.score(QUERY, texts), await raw.score(QUERY, texts)];
      got.forEach((score, i) => expect(Math.abs(score - want[i])).toBeLessThan(1e-5));
      const [wantP, gotP] = [await localDefault.score(QUERY, texts), await remote.score(QUERY, texts)];
      gotP.forEach((score, i) => expect(Math.abs(score - wantP[i])).toBeLessThan(1e-6));
      // From /info: max_client_batch_size, capped at one model batch of full-length inputs (16384 / 512 tokens).
      expect(raw.batchSize).toBe(Math.min(MAX_TEXTS, Math.floor(16384 / 512)));
    } finally {
      await Promise.all([local.dispose(), localDefault.dispose()]);
    }
  });

  test("TEI shapes: /rerank (sorted, sigmoid unless raw_scores, return_text), /info, /health, /embed, /metrics", async () => {
    const texts = TEST_CORPUS.slice(0, 5);
    const raw = (await (await post(`${server.url}/rerank`, { query: QUERY, texts, raw_scores: true })).json()) as {
      index: number;
      score: number;
    }[];
    const ranks = (await (await post(`${server.url}/rerank`, { query: QUERY, texts, return_text: true })).json()) as {
      index: number;
      score: number;
      text: string;
    }[];
    expect(ranks.map((r) => r.index).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(ranks.map((r) => r.score)).toEqual([...ranks.map((r) => r.score)].sort((a, b) => b - a));
    for (const rank of ranks) {
      expect(rank.text).toBe(texts[rank.index]);
      const logit = raw.find((r) => r.index === rank.index)!.score;
      expect(rank.score).toBeCloseTo(1 / (1 + Math.exp(-logit)), 6);
    }
    const info = (await (
      await fetch(`${server.url}/info`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      model_id: models.crossEncoder,
      max_client_batch_size: MAX_TEXTS,
      model_type: { reranker: { id2label: { "0": "LABEL_0" } } },
      auto_truncate: true,
    });
    expect((await fetch(`${server.url}/health`)).status).toBe(200); // no key needed for the probe
    const vectors = (await (
      await post(`${server.url}/embed`, { inputs: ["FAISS vectors", "tides"] })
    ).json()) as number[][];
    const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
    try {
      const want = await embeddings.embedDocuments(["FAISS vectors", "tides"]);
      vectors.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - want[i][j])).toBeLessThan(1e-5)));
    } finally {
      await embeddings.dispose();
    }
    const tooMany = await post(`${server.url}/rerank`, { query: QUERY, texts: new Array(MAX_TEXTS + 1).fill("x") });
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ error: `batch size 20001 > maximum allowed batch size ${MAX_TEXTS}` });
    const invalid = await post(`${server.url}/rerank`, { query: QUERY, texts: "not a list" });
    expect(invalid.status).toBe(422);
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })
    ).text();
    expect(metrics).toMatch(/two_stage_requests_total\{route="\/rerank",status="200"\} \d+/);
    expect(metrics).toMatch(/two_stage_queue_waiting 0/);
  });

  test("no key or a wrong key: 401 before any model time", async () => {
    const before = await pairsScored();
    for (const key of [null, "wrong-key-0123456789"]) {
      const answer = await post(`${server.url}/rerank`, { query: QUERY, texts: ["a", "b"] }, key);
      expect(answer.status).toBe(401);
      expect(await answer.text()).not.toContain(KEY);
      const v2 = await post(`${server.url}/v2/rerank`, { model: "m", query: QUERY, documents: ["a"] }, key);
      expect(v2.status).toBe(401);
    }
    expect(await pairsScored()).toBe(before);
    const remote = new RemoteReranker({ url: server.url, apiKey: "wrong-key-0123456789", maxBatchSize: 8 });
    const error = await remote.score(QUERY, ["a"]).catch((e: unknown) => e);
    expect(RemoteServiceError.isInstance(error) && error.status).toBe(401);
    expect((error as Error).message).not.toContain("wrong-key");
  });

  test("cohere-ai's CohereClient (v1) and CohereClientV2, pointed at the server, get the local model's ranking", async () => {
    const texts = TEST_CORPUS.slice(0, 8);
    const local = new CrossEncoderCompressor({ model: models.crossEncoder });
    try {
      const want = await local.rerank(texts, QUERY);
      const v2 = new CohereClientV2({ token: KEY, environment: server.url, maxRetries: 0 });
      const answer2 = await v2.rerank({ model: "rerank-v3.5", query: QUERY, documents: texts, topN: 3 });
      expect(answer2.results.map((r) => r.index)).toEqual(want.slice(0, 3).map((r) => r.index));
      answer2.results.forEach((r, i) => expect(r.relevanceScore).toBeCloseTo(want[i].relevanceScore, 6));
      expect(answer2.meta?.apiVersion?.version).toBe("2");
      const v1 = new CohereClient({ token: KEY, environment: server.url, maxRetries: 0 });
      const answer1 = await v1.rerank({
        model: "rerank-english-v2.0",
        query: QUERY,
        documents: texts.map((text) => ({ text })),
        topN: 2,
        returnDocuments: true,
      });
      expect(answer1.results.map((r) => [r.index, r.document?.text])).toEqual(
        want.slice(0, 2).map((r) => [r.index, texts[r.index]]),
      );
      // Our own client on both Cohere routes.
      for (const api of ["cohere-v1", "cohere-v2"] as const) {
        const remote = new RemoteReranker({ url: server.url, api, model: "any", apiKey: KEY });
        const scores = await remote.score(QUERY, texts);
        want.forEach((r) => expect(scores[r.index]).toBeCloseTo(r.relevanceScore, 6));
      }
      const refused = new CohereClientV2({ token: "not-the-key-0123", environment: server.url, maxRetries: 0 });
      await expect(refused.rerank({ model: "m", query: QUERY, documents: ["a"] })).rejects.toMatchObject({
        statusCode: 401,
      });
    } finally {
      await local.dispose();
    }
  });

  test("LangChain's own CohereRerank (@langchain/cohere), with a CohereClient pointed at the server, as stage 2", async () => {
    const docs = TEST_CORPUS.slice(0, 8).map((text, i) => new Document({ pageContent: text, metadata: { n: i } }));
    const local = new CrossEncoderCompressor({ model: models.crossEncoder });
    try {
      const want = await local.rerank(docs, QUERY);
      const cohere = new CohereRerank({
        client: new CohereClient({ token: KEY, environment: server.url, maxRetries: 0 }),
        model: "rerank-english-v2.0",
        topN: 2,
      });
      const out = await cohere.compressDocuments(
        docs.map((d) => new Document({ pageContent: d.pageContent, metadata: { ...d.metadata } })),
        QUERY,
      );
      expect(out.map((d) => d.metadata.n)).toEqual(want.slice(0, 2).map((r) => r.index));
      out.forEach((d, i) => expect(d.metadata.relevanceScore).toBeCloseTo(want[i].relevanceScore, 6));
      // Any LangChain compressor is stage 2: its output is matched back to the candidates.
      const retriever = new TwoStageRetriever({ stage1: listSource(docs), compressor: cohere, recallK: 8, topK: 2 });
      const { candidates } = await retriever.explain(QUERY);
      expect(candidates.filter((c) => c.returned).map((c) => c.recallRank - 1)).toEqual(
        want.slice(0, 2).map((r) => r.index),
      );
    } finally {
      await local.dispose();
    }
  });

  test("a remote stage in a cascade (local first stage → remote last) and in a retriever with explain", async () => {
    const docs = TEST_CORPUS.map((text, i) => new Document({ pageContent: text, metadata: { n: i } }));
    const first = new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 16 });
    const remote = new RemoteReranker({ url: server.url, apiKey: KEY, model: "served" });
    const cascade = new CascadeCompressor({ stages: [{ reranker: first, keep: 5 }, { reranker: remote }], topN: 3 });
    const retriever = new TwoStageRetriever({
      stage1: listSource(docs),
      compressor: cascade,
      recallK: 12,
      topK: 3,
    });
    try {
      const { candidates, documents } = await retriever.explain(QUERY);
      expect(documents).toHaveLength(3);
      expect(documents[0].metadata.reranked).toBe(true);
      const kept = candidates.filter((c) => c.stages?.length === 2);
      expect(kept).toHaveLength(5);
      expect(kept[0].stages![1].model).toBe("served");
      expect(candidates.filter((c) => c.dropped === "cascadeCut").length).toBeGreaterThan(0);
    } finally {
      await first.dispose();
    }
  });

  test("an aborted or timed-out request frees the server: its job stops between batches", async () => {
    const texts = manyTexts(MAX_TEXTS);
    const before = await pairsScored();
    // One request of 20,000 texts (a second or more of model time), not /info's 32-text requests.
    const one = { url: server.url, apiKey: KEY, maxBatchSize: MAX_TEXTS };
    const remote = new RemoteReranker({ ...one, timeoutMs: 300 });
    const started = performance.now();
    await expect(remote.score(QUERY, texts)).rejects.toThrow(/did not answer within timeoutMs \(300 ms\)/);
    expect(performance.now() - started).toBeLessThan(2000);
    const controller = new AbortController();
    const pending = new RemoteReranker(one).score(QUERY, texts, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("caller gave up")), 300);
    await expect(pending).rejects.toThrow("caller gave up");
    // Both jobs stopped between batches: the server is idle again and neither scored its 20,000 pairs.
    const deadline = performance.now() + 5000;
    let idle = false;
    while (!idle && performance.now() < deadline) {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
      idle = /two_stage_queue_running 0/.test(text) && /two_stage_queue_waiting 0/.test(text);
      if (!idle) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(idle).toBe(true);
    expect(await pairsScored()).toBe(before);
  });
});

describe("a remote stage 2 in the retriever's other paths", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-remote-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("evaluate() gives the remote reranker the local one's figures", async () => {
    writeTestDataset(path.join(root, "beir"));
    const dataset = await loadBeirDataset(path.join(root, "beir"));
    const docs = dataset.corpus.map((d) => new Document({ pageContent: d.text, metadata: { docId: d.id } }));
    const local = new CrossEncoderCompressor({ model: models.crossEncoder });
    const report = async (compressor: CrossEncoderCompressor | RemoteReranker) =>
      evaluate(new TwoStageRetriever({ stage1: listSource(docs), compressor, recallK: 24, topK: 3 }), dataset, {
        recallKs: [5, 24],
        topK: 3,
        latencyQueries: 2,
      });
    try {
      const [want, got] = [await report(local), await report(new RemoteReranker({ url: server.url, apiKey: KEY }))];
      got.results.forEach((r, i) => {
        expect(r.recallK).toBe(want.results[i].recallK);
        expect(r.ndcg).toBeCloseTo(want.results[i].ndcg, 6);
        expect(r.mrr).toBeCloseTo(want.results[i].mrr, 6);
      });
    } finally {
      await local.dispose();
    }
  });

  test("save and load keep a RemoteReranker (url, api, options), never its key", async () => {
    const docs = TEST_CORPUS.map((text) => new Document({ pageContent: text }));
    const retriever = await TwoStageRetriever.fromDocuments(docs, {
      stage1Kind: "bm25",
      compressor: new RemoteReranker({ url: server.url, apiKey: KEY, maxRetries: 1, topN: 2 }),
      topK: 2,
    });
    const dir = path.join(root, "index");
    await retriever.save(dir);
    expect(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8")).not.toContain(KEY);
    const previous = process.env.TWO_STAGE_API_KEY;
    process.env.TWO_STAGE_API_KEY = KEY; // the key comes from the environment again
    try {
      const loaded = await TwoStageRetriever.load(dir);
      expect(loaded.compressor).toBeInstanceOf(RemoteReranker);
      expect((loaded.compressor as RemoteReranker).savedParams()).toMatchObject({
        url: `${server.url}/`,
        maxRetries: 1,
      });
      const [best] = await loaded.invoke(QUERY);
      expect(best.pageContent).toBe(TEST_CORPUS[3]);
      expect(best.metadata.reranked).toBe(true);
      await loaded.dispose();
    } finally {
      if (previous === undefined) delete process.env.TWO_STAGE_API_KEY;
      else process.env.TWO_STAGE_API_KEY = previous;
      await retriever.dispose();
    }
  });

  test("the CLI's query --reranker-url reranks on the server", async () => {
    writeTestDataset(path.join(root, "cli-beir"));
    const env = { XDG_CACHE_HOME: path.join(root, "cache"), TWO_STAGE_MODEL_DIR: path.join(root, "models") };
    const index = path.join(root, "cli-index");
    const built = await runCli(
      ["index", path.join(root, "cli-beir", "corpus.jsonl"), "--out", index, "--stage1", "bm25", "--lexical-models"],
      env,
    );
    expect(built.status).toBe(0);
    const asked = await runCli(
      ["query", index, "cross-encoder reranker", "--reranker-url", server.url, "--top-k", "2", "--json"],
      { ...env, TWO_STAGE_API_KEY: KEY },
    );
    expect(asked.status).toBe(0);
    expect(asked.stderr).toContain(`stage 1: BM25 (no model); reranker: remote tei server ${server.url}\n`);
    const answer = JSON.parse(asked.stdout) as { candidates: { returned: boolean; relevanceScore?: number }[] };
    const [best] = answer.candidates.filter((c) => c.returned);
    expect(best).toMatchObject({ docId: "doc3", rerankRank: 1 });
    expect(best.relevanceScore).toBeGreaterThan(0.5); // the server's sigmoid score
    const refused = await runCli(["query", index, "cross-encoder reranker", "--reranker-url", server.url], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/refused the request \(401.*TWO_STAGE_API_KEY/);
  });
});

/** Runs the CLI from source without blocking this process (the server under test lives in it). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { ...process.env, TWO_STAGE_API_KEY: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describe("admission control", () => {
  test("a full queue answers 429 with Retry-After at once; RemoteReranker retries after it", async () => {
    const small = await startRerankServer({
      reranker: { model: models.crossEncoder },
      port: 0,
      maxQueue: 0,
      maxConcurrent: 1,
      maxTexts: MAX_TEXTS,
    });
    try {
      const busy = post(`${small.url}/rerank`, { query: QUERY, texts: manyTexts(MAX_TEXTS) }, null);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const t0 = performance.now();
      const refused = await post(`${small.url}/rerank`, { query: "another query", texts: ["a"] }, null);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ error_type: "Overloaded" });
      // A client that retries after Retry-After gets its answer once the slot is free.
      const patient = new RemoteReranker({ url: small.url, maxBatchSize: 8, maxRetries: 5 });
      expect(await patient.score("another query", ["a"])).toHaveLength(1);
      expect((await busy).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

/** Starts `two-stage serve` as a child process; resolves with its URL once it listens. */
function serveChild(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--port", "0", ...args], {
    env: { ...process.env, TWO_STAGE_API_KEY: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stderr: () => stderr });
      }
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}

describe("two-stage serve (the CLI, a child process)", () => {
  test("SIGTERM finishes the request in flight, then stops; new connections are refused", async () => {
    const { child, url, stderr } = await serveChild(["--reranker-model", models.crossEncoder, "--max-texts", "20000"]);
    const inFlight = post(`${url}/rerank`, { query: QUERY, texts: manyTexts(5000) }, null);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as unknown[]).length).toBe(5000);
    expect(await exited).toBe(0);
    expect(stderr()).toMatch(/SIGTERM: finishing the requests in flight/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  test("a retriever whose rerank server is killed mid-request falls back with the reason, never hangs", async () => {
    const { child, url } = await serveChild(["--reranker-model", models.crossEncoder, "--max-texts", "20000"]);
    const docs = manyTexts(MAX_TEXTS).map((text) => new Document({ pageContent: text }));
    const retriever = new TwoStageRetriever({
      stage1: listSource(docs),
      compressor: new RemoteReranker({ url, maxRetries: 1 }),
      recallK: MAX_TEXTS,
      topK: 3,
      onRerankError: "fallback",
      rerankTimeoutMs: 20_000,
    });
    const started = performance.now();
    const pending = retriever.invoke(QUERY);
    setTimeout(() => child.kill("SIGKILL"), 400);
    const out = await pending;
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(out).toHaveLength(3);
    expect(out[0].metadata.reranked).toBe(false);
    expect(out[0].metadata.rerankFallback).toMatch(
      new RegExp(`^rerank failed: POST ${url.replace(/[.]/g, "\\.")}/rerank failed after 2 attempts: no answer \\(`),
    );
  });
});
