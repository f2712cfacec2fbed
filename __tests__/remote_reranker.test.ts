// RemoteReranker against a stub fetch: the wire formats it sends and reads, batching to the server's limit, retries
// with Retry-After, cancellation, and the API key kept out of messages and saved settings. The same class against a
// real server (two-stage serve, cohere-ai's clients) is in remote_rerank.int.test.ts.
import { jest } from "@jest/globals";
import { Document } from "@langchain/core/documents";

import {
  CascadeCompressor,
  CrossEncoderCompressor,
  InvalidArgumentError,
  RemoteReranker,
  RemoteServiceError,
  TwoStageRetriever,
  isStageReranker,
} from "../src/index.js";
import type { RecallSource } from "../src/index.js";
import { retryAfterMs } from "../src/rerank/remote/json_request.js";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

type Answer = { status?: number; json?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that records each call and answers from `respond`. */
function stubFetch(respond: (call: Call, n: number) => Answer | Promise<Answer>) {
  const calls: Call[] = [];
  const fetch = jest.fn(async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined,
    };
    calls.push(call);
    const answer = await respond(call, calls.length);
    if (answer instanceof Error) throw answer;
    return new Response(JSON.stringify(answer.json ?? null), {
      status: answer.status ?? 200,
      headers: { "content-type": "application/json", ...answer.headers },
    });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

/** A TEI that scores a text by its length (raw logit = length / 10 - 2), with /info. */
function teiStub(maxClientBatch = 2) {
  return stubFetch((call) => {
    if (call.url.endsWith("/info")) return { json: { model_id: "stub", max_client_batch_size: maxClientBatch } };
    const texts = call.body!.texts as string[];
    return { json: texts.map((t, index) => ({ index, score: t.length / 10 - 2 })).reverse() };
  });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("RemoteReranker (stub server)", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test("tei: asks for raw scores, applies sigmoid, batches to /info's max_client_batch_size", async () => {
    const { fetch, calls } = teiStub(2);
    const reranker = new RemoteReranker({ url: "http://tei.local:8080/", fetch });
    const texts = ["a", "bbbbbbbbbbbbbbbbbbbbbbbbb", "ccc", "a"];
    const scores = await reranker.score("q", texts);
    expect(scores).toEqual(texts.map((t) => sigmoid(t.length / 10 - 2)));
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET http://tei.local:8080/info",
      "POST http://tei.local:8080/rerank",
      "POST http://tei.local:8080/rerank",
    ]);
    expect(calls[1].body).toEqual({
      query: "q",
      texts: ["a", "bbbbbbbbbbbbbbbbbbbbbbbbb"],
      raw_scores: true,
      truncate: true,
      return_text: false,
    });
    expect(calls[2].body?.texts).toEqual(["ccc"]); // the repeated "a" is sent once
    expect(reranker.batchSize).toBe(2);
    expect(reranker.lastCost).toEqual({ units: 3, pairs: 3 });
  });

  test("tei: requests fit one server batch of full-length inputs (/info's max_batch_tokens / max_input_length)", async () => {
    const { fetch, calls } = stubFetch((call) => {
      if (call.url.endsWith("/info")) {
        return { json: { model_id: "stub", max_client_batch_size: 32, max_batch_tokens: 1024, max_input_length: 512 } };
      }
      return { json: (call.body!.texts as string[]).map((_, index) => ({ index, score: 0 })) };
    });
    const reranker = new RemoteReranker({ url: "http://tei.local:8080", fetch, maxConcurrentRequests: 1 });
    await reranker.score("q", ["a", "b", "c", "d", "e"]);
    expect(reranker.batchSize).toBe(2); // min(32, floor(1024 / 512))
    expect(calls.slice(1).map((c) => c.body?.texts)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  test("requests go maxConcurrentRequests at a time; the first failure stops the rest and is the one thrown", async () => {
    let inFlight = 0;
    let most = 0;
    const { fetch, calls } = stubFetch(async (call) => {
      if (call.url.endsWith("/info")) return { json: { model_id: "stub", max_client_batch_size: 1 } };
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      const [text] = call.body!.texts as string[];
      if (text === "fail") return { status: 400, json: { error: "bad input", error_type: "Validation" } };
      return { json: [{ index: 0, score: text.length }] };
    });
    const reranker = new RemoteReranker({
      url: "http://tei.local",
      fetch,
      maxConcurrentRequests: 3,
      activation: "none",
    });
    const texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"];
    expect(await reranker.score("q", texts)).toEqual(texts.map((t) => t.length));
    expect(most).toBe(3);
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(texts.length);

    calls.length = 0;
    const failing = reranker.score("q", ["a", "fail", "b", "c", "d", "e", "f", "h", "i"]);
    await expect(failing).rejects.toThrow(/400/);
    expect(calls.filter((c) => c.method === "POST").length).toBeLessThan(9); // the rest were not sent
  });

  test("tei with activation none returns the raw logits; maxBatchSize skips /info", async () => {
    const { fetch, calls } = teiStub();
    const reranker = new RemoteReranker({ url: "http://tei.local", activation: "none", maxBatchSize: 8, fetch });
    expect(await reranker.score("q", ["abc", "abcdefghijklmnopqrstuvwxyz"])).toEqual([0.3 - 2, 2.6 - 2]);
    expect(calls).toHaveLength(1);
  });

  test("cohere-v1 and cohere-v2 send Cohere's bodies and read relevance_score as it is", async () => {
    for (const api of ["cohere-v1", "cohere-v2"] as const) {
      const { fetch, calls } = stubFetch((call) => ({
        json: {
          id: "x",
          results: (call.body!.documents as string[]).map((_, index) => ({ index, relevance_score: index / 10 })),
          meta: { api_version: { version: api === "cohere-v1" ? "1" : "2" } },
        },
      }));
      const reranker = new RemoteReranker({ url: "https://api.example.com", api, model: "rerank-v3.5", fetch });
      expect(await reranker.score("q", ["x", "y", "z"])).toEqual([0, 0.1, 0.2]);
      expect(calls[0].url).toBe(`https://api.example.com/${api === "cohere-v1" ? "v1" : "v2"}/rerank`);
      expect(calls[0].body).toEqual({
        model: "rerank-v3.5",
        query: "q",
        documents: ["x", "y", "z"],
        ...(api === "cohere-v1" ? { return_documents: false } : {}),
      });
      expect(reranker.batchSize).toBe(1000);
    }
  });

  test("the API key goes in the Authorization header only: never in messages or savedParams", async () => {
    process.env.TWO_STAGE_API_KEY = "sk-secret-from-env";
    const { fetch, calls } = stubFetch(() => ({ status: 401, json: { error: "unauthorized", error_type: "Auth" } }));
    const reranker = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch });
    const error = await reranker.score("q", ["a"]).catch((e: unknown) => e);
    expect(RemoteServiceError.isInstance(error)).toBe(true);
    expect((error as RemoteServiceError).status).toBe(401);
    expect((error as Error).message).toMatch(/refused the request \(401: unauthorized\).*TWO_STAGE_API_KEY/);
    expect(calls[0].headers.authorization).toBe("Bearer sk-secret-from-env");
    const everything = JSON.stringify([reranker.savedParams(), (error as Error).message, String(reranker)]);
    expect(everything).not.toContain("sk-secret");
    expect(JSON.stringify(reranker)).not.toContain("sk-secret");
    expect(calls).toHaveLength(1); // 401 is not retried
  });

  test("retries 503 and 429 after the server's Retry-After, then answers", async () => {
    const waits: number[] = [];
    let last = performance.now();
    const { fetch, calls } = stubFetch((call, n) => {
      waits.push(performance.now() - last);
      last = performance.now();
      if (n === 1) return { status: 503, json: { error: "loading" }, headers: { "retry-after": "0" } };
      if (n === 2) return { status: 429, json: { error: "busy" } };
      return { json: (call.body!.texts as string[]).map((_, index) => ({ index, score: 0 })) };
    });
    const reranker = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch });
    expect(await reranker.score("q", ["a"])).toEqual([0.5]);
    expect(calls).toHaveLength(3);
    expect(waits[2]).toBeGreaterThanOrEqual(240); // the backoff of the 429 (no Retry-After): 250 ms
  });

  test("gives up after maxRetries with the status and what to do; a Retry-After past 30 s fails at once", async () => {
    const { fetch, calls } = stubFetch(() => ({
      status: 503,
      json: { error: "overloaded" },
      headers: { "retry-after": "0" },
    }));
    const reranker = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, maxRetries: 1, fetch });
    await expect(reranker.score("q", ["a"])).rejects.toThrow(
      /POST http:\/\/tei.local\/rerank failed after 2 attempts: 503 \(overloaded\)\. The server is overloaded/,
    );
    expect(calls).toHaveLength(2);
    const slow = stubFetch(() => ({ status: 429, headers: { "retry-after": "120" } }));
    const impatient = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch: slow.fetch });
    await expect(impatient.score("q", ["a"])).rejects.toThrow(/asked to retry after 120 s/);
    expect(slow.calls).toHaveLength(1);
  });

  test("a refused connection is retried, then named with the next step", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const { fetch, calls } = stubFetch(() => refused);
    const reranker = new RemoteReranker({ url: "http://10.0.0.9:8080", maxBatchSize: 4, maxRetries: 1, fetch });
    await expect(reranker.score("q", ["a"])).rejects.toThrow(
      /POST http:\/\/10.0.0.9:8080\/rerank failed after 2 attempts: no answer \(ECONNREFUSED\)\. Check that the server is running/,
    );
    expect(calls).toHaveLength(2);
  });

  test("an abort signal cancels the request in flight; timeoutMs bounds one attempt", async () => {
    const hang = (_: Call, __: number, signal?: AbortSignal) =>
      new Promise<Answer>((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    const fetch = (async (_input: string | URL | Request, init?: RequestInit) =>
      hang({} as Call, 0, init?.signal ?? undefined)) as unknown as typeof globalThis.fetch;
    const reranker = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch, timeoutMs: 100 });
    const controller = new AbortController();
    const pending = reranker.score("q", ["a"], { signal: controller.signal });
    const reason = new Error("caller gave up");
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    const started = performance.now();
    await expect(reranker.score("q", ["a"])).rejects.toThrow(/did not answer within timeoutMs \(100 ms\)/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a malformed answer is a RemoteServiceError naming the fault", async () => {
    const { fetch } = stubFetch(() => ({ json: [{ index: 0, score: 1 }] }));
    const reranker = new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch });
    await expect(reranker.score("q", ["a", "b"])).rejects.toThrow(/has 1 results for 2 texts \(text 1 has none\)/);
  });

  test("options are checked at the constructor, naming the value and the fix", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ url: "ftp://x" }, /url must be http or https; got ftp/],
      [{ url: "http://user:pw@x" }, /url carries credentials/],
      [{ url: "http://x", api: "jina" }, /Unknown api the string "jina". Expected one of: tei, cohere-v1, cohere-v2/],
      [{ url: "http://x", api: "cohere-v2" }, /model is required with api 'cohere-v2'/],
      [{ url: "http://x", api: "cohere-v1", activation: "none" }, /activation applies to api 'tei'/],
      [{ url: "http://x", maxRetries: -1 }, /maxRetries must be a whole number ≥ 0/],
      [{ url: "http://x", timeoutMs: 0 }, /timeoutMs must be a whole number of milliseconds/],
      [{ url: "http://x", apiKey: 42 }, /apiKey must be a non-empty string; got number/],
    ];
    for (const [params, message] of bad) {
      const error = (() => {
        try {
          new RemoteReranker(params as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });

  test("is a StageReranker: a cascade stage after a local one, under a budget, with savedParams", async () => {
    const { fetch } = teiStub(4);
    const remote = new RemoteReranker({ url: "http://tei.local", model: "big-remote", fetch });
    expect(isStageReranker(remote)).toBe(true);
    expect(isStageReranker(new CrossEncoderCompressor())).toBe(true);
    const first = new RemoteReranker({ url: "http://tei.local", model: "first", activation: "none", fetch });
    const cascade = new CascadeCompressor({
      stages: [{ reranker: first, keep: 2 }, { reranker: remote }],
      topN: 2,
      rerankBudgetMs: 10_000,
    });
    const docs = ["a", "bbbbbbbbbb", "cccccccccccccccccccc", "dd"].map((t) => new Document({ pageContent: t }));
    const out = await cascade.compressDocuments(docs, "q");
    expect(out.map((d) => d.pageContent)).toEqual(["cccccccccccccccccccc", "bbbbbbbbbb"]);
    expect(out[0].metadata.rerankStages.map((s: { model: string }) => s.model)).toEqual(["first", "big-remote"]);
    expect(cascade.savedParams()?.stages[1].reranker).toEqual({
      url: "http://tei.local/",
      api: "tei",
      model: "big-remote",
      timeoutMs: 30000,
      maxConcurrentRequests: 4,
      maxRetries: 2,
      activation: "sigmoid",
      maxTextChars: 20000,
      topN: 3,
      dedupe: true,
    });
  });

  test("TwoStageRetriever: rerankTimeoutMs aborts a hanging remote rerank and falls back with the reason", async () => {
    let aborted = false;
    const fetch = (async (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(init.signal!.reason);
        }),
      )) as unknown as typeof globalThis.fetch;
    const source: RecallSource = {
      name: "stub",
      scoreKind: "stub",
      async recall(_query: string, k: number) {
        return ["one", "two", "three"].slice(0, k).map((text, i) => ({
          document: new Document({ pageContent: text }),
          score: 1 - i / 10,
        }));
      },
    } as unknown as RecallSource;
    const retriever = new TwoStageRetriever({
      stage1: source,
      compressor: new RemoteReranker({ url: "http://tei.local", maxBatchSize: 4, fetch }),
      recallK: 3,
      topK: 2,
      rerankTimeoutMs: 50,
    });
    const docs = await retriever.invoke("q");
    expect(docs.map((d) => [d.pageContent, d.metadata.reranked, d.metadata.rerankFallback])).toEqual([
      ["one", false, "rerank exceeded 50 ms"],
      ["two", false, "rerank exceeded 50 ms"],
    ]);
    expect(aborted).toBe(true);
  });

  test("Retry-After reads delta-seconds and HTTP dates", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
