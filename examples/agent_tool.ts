// The two-stage retriever as an agent tool, inside LangChain v1's `createAgent` (the successor of LangGraph's
// deprecated `createReactAgent`).
// Run: npx tsx examples/agent_tool.ts (the scripted model below stands in for a real tool-calling chat model).
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { createAgent } from "langchain";
import { z } from "zod";

import { TwoStageRetriever } from "two-stage-retriever";
import { formatDocs } from "./rag_chain.js";
import { QUICKSTART_TEXTS } from "./quickstart.js";
import { ScriptedToolModel } from "./scripted_tool_model.js";
import { isMain, notesRetriever } from "./models.js";

/** The retriever wrapped as a tool the agent can call with a search query. */
export function searchNotesTool(retriever: TwoStageRetriever) {
  return tool(async ({ query }: { query: string }) => formatDocs(await retriever.invoke(query)), {
    name: "search_notes",
    description: "Search the ocean-science notes. Input: a natural-language search query.",
    schema: z.object({ query: z.string().describe("what to look for") }),
  });
}

/** Runs the agent on a question and returns the conversation. */
export async function runAgent(
  retriever: TwoStageRetriever,
  llm: BaseChatModel,
  question: string,
): Promise<BaseMessage[]> {
  const agent = createAgent({ model: llm, tools: [searchNotesTool(retriever)] });
  const { messages } = await agent.invoke({ messages: [{ role: "user", content: question }] });
  return messages;
}

async function main(): Promise<void> {
  const { retriever, dispose } = await notesRetriever(QUICKSTART_TEXTS, 2);
  const llm = new ScriptedToolModel([
    new AIMessage({
      content: "",
      tool_calls: [{ id: "call_1", name: "search_notes", args: { query: "tides caused by the Moon" } }],
    }),
  ]);
  const messages = await runAgent(retriever, llm, "What causes the tides?");
  for (const message of messages) console.log(`${message.getType()}: ${String(message.content)}`);
  await dispose();
}

if (isMain(import.meta.url)) await main();
