// A RAG chain: {context: retriever → formatted documents, question} → prompt → chat model → string.
// Run: npx tsx examples/rag_chain.ts (with a real chat model, replace the echo model below).
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables";
import type { DocumentInterface } from "@langchain/core/documents";
import type { BaseRetriever } from "@langchain/core/retrievers";

import { QUICKSTART_TEXTS } from "./quickstart.js";
import { isMain, notesRetriever } from "./models.js";

const prompt = ChatPromptTemplate.fromMessages([
  ["system", "Answer only from the context. Cite sources in brackets.\n\nContext:\n{context}"],
  ["human", "{question}"],
]);

/** Documents as numbered, sourced paragraphs for the prompt. */
export function formatDocs(docs: DocumentInterface[]): string {
  return docs.map((d, i) => `[${d.metadata.source ?? i + 1}] ${d.pageContent}`).join("\n");
}

/** The chain: any retriever, any chat model. */
export function buildRagChain(retriever: BaseRetriever, llm: BaseChatModel | RunnableLambda<unknown, unknown>) {
  return RunnableSequence.from([
    { context: retriever.pipe(formatDocs), question: new RunnablePassthrough() },
    prompt,
    llm,
    new StringOutputParser(),
  ]);
}

async function main(): Promise<void> {
  const { retriever, dispose } = await notesRetriever(QUICKSTART_TEXTS, 2);
  // Stand-in model that echoes its prompt, so the example runs without an API key. Use e.g. ChatOpenAI instead.
  const echo = RunnableLambda.from(async (value: unknown) => String((value as { toString(): string }).toString()));
  console.log(await buildRagChain(retriever, echo).invoke("What causes the tides?"));
  await dispose();
}

if (isMain(import.meta.url)) await main();
