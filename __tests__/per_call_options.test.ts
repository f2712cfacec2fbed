// Per-call options (RunnableConfig.configurable: recallK, topK, filter, rerankTimeoutMs, onRerankError) and the
// config's signal: taken at invoke, checked by the constructor's own check, honoured by withConfig, batch and agent
// tools, and an abort stops stage 2's work (no further batch), not only the waiting.
import { Document } from "@langchain/core/documents";
import { AIMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import "@langchain/langgraph"; // switches on LangChain's async-local config, as an app building a graph does
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createRetrieverTool } from "@langchain/classic/tools/retriever";
import { z } from "zod";

import {
  Bm25Index,
  CrossEncoderCompressor,
  InvalidArgumentError,
  type RecallFilter,
  type RecallSource,
  RemoteReranker,
  TwoStageRetriever,
  type TwoStageRetrieverParams,
} from "../src/index.js";
import { ScriptedToolModel } from "../examples/scripted_tool_model.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels, countingCrossEncoder } from "./support/models.js";

const models = buildTestModels();
afterAll(() => models.cleanup());

const DOCS = TEST_CORPUS.map(
  (text, i) => new Document({ pageContent: text, id: `doc-${i}`, metadata: { topic: i % 2 === 0 ? "even" : "odd" } }),
);
// Words of 13 of the documents, the honeybee one most of all: stage 1 finds more than recallK (10) candidates.
const QUERY =
  "honeybees waggle dance flowers Paris sunlight FAISS reranker marathon Rosetta volcanic sourdough mitochondria Jupiter penguins treaty";

/** A BM25 stage 1 that records the `k` and `filter` of every call. */
class RecordingSource implements RecallSource {
  readonly name = "recording-bm25";
  readonly scoreKind = "bm25";
  readonly calls: { k: number; filter?: RecallFilter }[] = [];
  constructor(private readonly index: Bm25Index) {}
  recall(query: string, k: number, filter?: RecallFilter) {
    this.calls.push({ k, filter });
    return this.index.recall(query, k, filter);
  }
}

async function setup(params: Partial<TwoStageRetrieverParams> = {}) {
  const index = new Bm25Index();
  await index.addDocuments(DOCS);
  const source = new RecordingSource(index);
  const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
  const retriever = new TwoStageRetriever({ stage1: source, compressor: reranker, recallK: 10, topK: 3, ...params });
  return { source, retriever, reranker };
}

describe("per-call options through RunnableConfig.configurable", () => {
  test("topK, recallK and filter change one call only; the retriever's own values stay", async () => {
    const { source, retriever, reranker } = await setup();
    const docs = await retriever.invoke(QUERY, { configurable: { topK: 1, recallK: 5, filter: { topic: "odd" } } });
    expect(docs).toHaveLength(1);
    expect(docs[0].metadata.topic).toBe("odd");
    expect(source.calls.at(-1)).toEqual({ k: 5, filter: { topic: "odd" } });

    const again = await retriever.invoke(QUERY);
    expect(again).toHaveLength(3);
    expect(source.calls.at(-1)).toEqual({ k: 10, filter: undefined });
    expect(again.some((doc) => doc.metadata.topic === "even")).toBe(true);
    // Unknown keys (a graph's thread_id, another component's options) are not read.
    expect(await retriever.invoke(QUERY, { configurable: { thread_id: "t1", k: 1 } })).toHaveLength(3);
    await reranker.dispose();
  });

  test("a predicate filter per call", async () => {
    const { retriever, reranker } = await setup();
    const docs = await retriever.invoke(QUERY, {
      configurable: { filter: (doc: Document) => doc.id === "doc-13" || doc.id === "doc-2" },
    });
    expect(docs.map((doc) => doc.id).sort()).toEqual(["doc-13", "doc-2"]);
    await reranker.dispose();
  });

  test("a bad per-call value fails exactly as the same value fails in the constructor", async () => {
    const { source, retriever, reranker } = await setup();
    const bad: Record<string, unknown>[] = [
      { topK: 0 },
      { topK: "2" },
      { recallK: 2.5 },
      { topK: 11 }, // above the retriever's recallK of 10
      { recallK: 2 }, // below its topK of 3
      { filter: "topic=odd" },
      { filter: ["odd"] },
      { rerankTimeoutMs: 2 ** 31 },
      { rerankTimeoutMs: "50" },
      { onRerankError: "retry" },
    ];
    for (const options of bad) {
      let fromConstructor: unknown;
      try {
        new TwoStageRetriever({ stage1: source, compressor: reranker, recallK: 10, topK: 3, ...options });
      } catch (error) {
        fromConstructor = error;
      }
      expect(fromConstructor).toBeInstanceOf(InvalidArgumentError);
      const calls = source.calls.length;
      const fromCall = await retriever.invoke(QUERY, { configurable: options }).catch((error: unknown) => error);
      expect(fromCall).toBeInstanceOf(InvalidArgumentError);
      expect((fromCall as Error).message).toBe((fromConstructor as Error).message);
      expect((fromCall as InvalidArgumentError).argument).toBe((fromConstructor as InvalidArgumentError).argument);
      expect(source.calls.length).toBe(calls); // refused before any work
    }
    await reranker.dispose();
  });

  test("withConfig, batch and explain take the same options", async () => {
    const { retriever, reranker } = await setup();
    expect(await retriever.withConfig({ configurable: { topK: 1 } }).invoke(QUERY)).toHaveLength(1);
    const batched = await retriever.batch(
      [QUERY, QUERY, QUERY],
      [{ configurable: { topK: 1 } }, { configurable: { topK: 2 } }, {}],
    );
    expect(batched.map((docs) => docs.length)).toEqual([1, 2, 3]);
    const explained = await retriever.explain(QUERY, { configurable: { recallK: 4, topK: 2 } });
    expect(explained.candidates).toHaveLength(4);
    expect(explained.documents).toHaveLength(2);
    await reranker.dispose();
  });

  test("agent tools: a LangGraph agent's config reaches the retriever through the tool", async () => {
    const { retriever, reranker } = await setup();
    const schema = z.object({ query: z.string() });
    // The LangChain way: the tool passes its config on.
    const passing = tool(
      async ({ query }: { query: string }, config) => `${(await retriever.invoke(query, config)).length} found`,
      { name: "search_notes", description: "search the notes", schema },
    );
    // A tool that calls retriever.invoke(query) alone: the config arrives through LangChain's async-local storage,
    // which @langchain/langgraph's main entry switches on (imported above, as an app building a graph does).
    const silent = tool(async ({ query }: { query: string }) => `${(await retriever.invoke(query)).length} found`, {
      name: "search_notes",
      description: "search the notes",
      schema,
    });
    const ask = async (search: typeof passing, config?: { configurable: Record<string, unknown> }) => {
      const llm = new ScriptedToolModel([
        new AIMessage({ content: "", tool_calls: [{ id: "call_1", name: "search_notes", args: { query: QUERY } }] }),
      ]);
      const agent = createReactAgent({ llm, tools: [search] });
      const { messages } = await agent.invoke({ messages: [{ role: "user", content: "bees?" }] }, config);
      return messages.find((message) => message.getType() === "tool")?.content;
    };
    expect(await ask(passing, { configurable: { topK: 2 } })).toBe("2 found");
    expect(await ask(silent, { configurable: { topK: 1, thread_id: "t" } })).toBe("1 found");
    expect(await ask(passing)).toBe("3 found");
    expect(await passing.invoke({ query: QUERY }, { configurable: { topK: 1 } })).toBe("1 found");
    // LangChain's own retriever tool hands the retriever a callback manager only; in an agent the config arrives
    // implicitly all the same.
    const classic = createRetrieverTool(retriever, { name: "search_notes", description: "search the notes" });
    const text = await ask(classic as unknown as typeof passing, { configurable: { topK: 2 } });
    expect(String(text).split("\n\n")).toHaveLength(2);
    await reranker.dispose();
  });
});

describe("the config's signal and rerankTimeoutMs stop stage 2's work", () => {
  /** A reranker over the test model whose model call `onCall` runs before each batch (one candidate per batch). */
  async function countedReranker(onCall: (calls: number) => Promise<void> | void) {
    const counting = await countingCrossEncoder(models.crossEncoder);
    const sequenceModel = Object.assign(
      async (inputs: Parameters<typeof counting.sequenceModel>[0]) => {
        await onCall(counting.calls() + 1);
        return counting.sequenceModel(inputs);
      },
      { config: counting.sequenceModel.config, dispose: () => counting.sequenceModel.dispose?.() },
    );
    const reranker = new CrossEncoderCompressor({ tokenizer: counting.tokenizer, sequenceModel, batchSize: 1 });
    return { reranker, calls: counting.calls };
  }

  test("an abort during the rerank rejects with its reason and no further batch starts", async () => {
    const controller = new AbortController();
    const reason = new Error("user left");
    const { reranker, calls } = await countedReranker((n) => {
      if (n === 2) controller.abort(reason);
    });
    const { retriever } = await setup({ compressor: reranker, onRerankError: "fallback" });
    await expect(retriever.invoke(QUERY, { signal: controller.signal })).rejects.toBe(reason); // never a fallback
    const after = calls();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(after).toBeLessThanOrEqual(2);
    expect(calls()).toBe(after); // nothing ran on in the background
    // Without the abort the same rerank runs one batch per candidate.
    const { reranker: full, calls: fullCalls } = await countedReranker(() => undefined);
    const { retriever: whole } = await setup({ compressor: full });
    await whole.invoke(QUERY);
    expect(fullCalls()).toBe(10);
    await Promise.all([reranker.dispose(), full.dispose()]);
  });

  test("a RemoteReranker as stage 2: the abort cancels the request in flight and sends no further batch", async () => {
    const controller = new AbortController();
    const reason = new Error("user left");
    const requests: AbortSignal[] = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith("/info")) {
        return new Response(JSON.stringify({ model_id: "stub", max_client_batch_size: 2 }), { status: 200 });
      }
      requests.push(init!.signal!);
      controller.abort(reason); // the caller leaves while the first batch is at the server
      return new Promise<Response>((_, reject) =>
        init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)),
      );
    }) as unknown as typeof globalThis.fetch;
    const remote = new RemoteReranker({ url: "http://tei.local", fetch });
    const { retriever } = await setup({ compressor: remote, onRerankError: "fallback" });
    await expect(retriever.invoke(QUERY, { signal: controller.signal })).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requests).toHaveLength(1); // 10 candidates in batches of 2 would be 5 requests
    expect(requests[0].aborted).toBe(true);
  });

  test("an already aborted signal refuses the call before stage 1", async () => {
    const { retriever, source, reranker } = await setup();
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(retriever.invoke(QUERY, { signal: controller.signal })).rejects.toThrow("gone");
    expect(source.calls).toHaveLength(0);
    await reranker.dispose();
  });

  test("rerankTimeoutMs (per call too) returns stage-1 order and stops the batches", async () => {
    const { reranker, calls } = await countedReranker(() => new Promise((resolve) => setTimeout(resolve, 40)));
    const { retriever, source } = await setup({ compressor: reranker });
    const docs = await retriever.invoke(QUERY, { configurable: { rerankTimeoutMs: 60 } });
    expect(docs.every((doc) => doc.metadata.reranked === false)).toBe(true);
    expect(docs[0].metadata.rerankFallback).toBe("rerank exceeded 60 ms");
    expect(docs.map((doc) => doc.metadata.recallRank)).toEqual([1, 2, 3]);
    expect(source.calls.at(-1)?.k).toBe(10);
    const atReturn = calls();
    await new Promise((resolve) => setTimeout(resolve, 500)); // 10 batches of 40 ms would have ended by now
    expect(calls()).toBeLessThanOrEqual(atReturn + 1); // at most the batch already running
    expect(calls()).toBeLessThan(10);
    await reranker.dispose();
  });

  test("LangChain's `timeout` option becomes the signal and stops the rerank the same way", async () => {
    const { reranker, calls } = await countedReranker(() => new Promise((resolve) => setTimeout(resolve, 40)));
    const { retriever } = await setup({ compressor: reranker });
    await expect(retriever.invoke(QUERY, { timeout: 60 })).rejects.toThrow();
    const atReturn = calls();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(calls()).toBeLessThanOrEqual(atReturn + 1);
    expect(calls()).toBeLessThan(10);
    await reranker.dispose();
  });
});
