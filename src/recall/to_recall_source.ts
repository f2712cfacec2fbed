import type { BaseRetrieverInterface } from "@langchain/core/retrievers";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import { InvalidArgumentError } from "../errors.js";
import { describeValue } from "../validation.js";
import { type RecallSource, isRecallSource } from "./recall_source.js";
import { RetrieverSource } from "./retriever_source.js";
import { VectorStoreSource } from "./vector_store_source.js";

/** What can be stage 1: a {@link RecallSource}, any LangChain vector store, or any LangChain retriever. */
export type Stage1 = RecallSource | VectorStoreInterface | BaseRetrieverInterface;

/** Wraps a vector store or retriever in its adapter; a {@link RecallSource} is returned as it is. */
export function toRecallSource(stage1: Stage1): RecallSource {
  if (isRecallSource(stage1)) return stage1;
  const candidate = stage1 as Partial<VectorStoreInterface & BaseRetrieverInterface>;
  if (typeof candidate.similaritySearchWithScore === "function" && typeof candidate._vectorstoreType === "function") {
    return new VectorStoreSource(stage1 as VectorStoreInterface);
  }
  if (typeof candidate.invoke === "function") return new RetrieverSource(stage1 as BaseRetrieverInterface);
  throw new InvalidArgumentError(
    `stage1 must be a RecallSource, a LangChain vector store or a LangChain retriever; got ${describeValue(stage1)}.`,
    { argument: "stage1" },
  );
}
