import fs from "node:fs";

import { jest } from "@jest/globals";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { FakeListChatModel } from "@langchain/core/utils/testing";

import { runAgent } from "../examples/agent_tool.js";
import { QUICKSTART_QUESTION, QUICKSTART_TEXTS, quickstart } from "../examples/quickstart.js";
import { buildRagChain } from "../examples/rag_chain.js";
import { ScriptedToolModel } from "../examples/scripted_tool_model.js";
import { notesRetriever } from "../examples/models.js";
import { TwoStageRetriever } from "../src/index.js";
import { buildTestModels } from "./support/models.js";

// The examples default to the hub models; here they run on the project's lexical models, named by the same
// environment variables a user with downloaded models would set.
const models = buildTestModels(QUICKSTART_TEXTS);
process.env.TWO_STAGE_EMBEDDING_MODEL = models.biEncoder;
process.env.TWO_STAGE_RERANKER_MODEL = models.crossEncoder;
const TIDES = QUICKSTART_TEXTS[0];

afterAll(() => {
  delete process.env.TWO_STAGE_EMBEDDING_MODEL;
  delete process.env.TWO_STAGE_RERANKER_MODEL;
  models.cleanup();
});

async function retriever(): Promise<TwoStageRetriever> {
  return (await notesRetriever(QUICKSTART_TEXTS, 2)).retriever;
}

test("examples/quickstart.ts answers with both ranks per result", async () => {
  const logs: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((line: string) => void logs.push(line));
  try {
    const docs = await quickstart();
    expect(docs[0].pageContent).toBe(TIDES);
    expect(logs[0]).toBe(`Q: ${QUICKSTART_QUESTION}`);
    expect(logs[1]).toMatch(
      /^#1 {2}stage 1 rank \d → stage 2 rank 1 {2}cosine -?\d\.\d{3} {2}relevance \d\.\d{3} {2}Tides are caused/,
    );
  } finally {
    spy.mockRestore();
  }
});

test("examples/rag_chain.ts puts the top document into the prompt", async () => {
  const prompts: string[] = [];
  class PromptRecorder extends BaseCallbackHandler {
    name = "prompt-recorder";
    override async handleChatModelStart(_llm: unknown, messages: BaseMessage[][]) {
      prompts.push(
        messages
          .flat()
          .map((m) => String(m.content))
          .join("\n"),
      );
    }
  }
  const llm = new FakeListChatModel({ responses: ["The Moon's gravity [note-1]."] });
  const chain = buildRagChain(await retriever(), llm);
  const answer = await chain.invoke("What causes the tides?", { callbacks: [new PromptRecorder()] });
  expect(answer).toBe("The Moon's gravity [note-1].");
  expect(prompts).toHaveLength(1);
  expect(prompts[0]).toContain(`[note-1] ${TIDES}`);
  expect(prompts[0]).toContain("What causes the tides?");
});

test("examples/agent_tool.ts: LangChain v1's createAgent calls the tool and its output carries the top document", async () => {
  const llm = new ScriptedToolModel([
    new AIMessage({
      content: "",
      tool_calls: [{ id: "call_1", name: "search_notes", args: { query: "tides caused by the Moon" } }],
    }),
  ]);
  const messages = await runAgent(await retriever(), llm, "What causes the tides?");
  const toolMessages = messages.filter((m) => m.getType() === "tool");
  expect(toolMessages).toHaveLength(1);
  expect(String(toolMessages[0].content).split("\n")[0]).toBe(`[note-1] ${TIDES}`);
  expect(String(messages[messages.length - 1].content)).toContain(TIDES);
});

test("the examples use LangChain v1's createAgent, not LangGraph's deprecated createReactAgent", () => {
  const sources = fs.readdirSync("examples").filter((name) => name.endsWith(".ts"));
  const deprecated = sources.filter((name) =>
    /createReactAgent\(|@langchain\/langgraph\/prebuilt/.test(fs.readFileSync(`examples/${name}`, "utf8")),
  );
  expect(deprecated).toEqual([]);
  expect(fs.readFileSync("examples/agent_tool.ts", "utf8")).toMatch(/import \{ createAgent \} from "langchain";/);
});
