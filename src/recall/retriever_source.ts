import type { BaseRetrieverInterface } from "@langchain/core/retrievers";

import { InvalidArgumentError } from "../errors.js";
import type { RecallCandidate, RecallFilter, RecallSource } from "./recall_source.js";
import { copyDocument } from "../documents/copy_document.js";

/** Options of {@link RetrieverSource}. */
export interface RetrieverSourceParams {
  /**
   * Name in `explain` and fused results.
   * @default "retriever"
   */
  name?: string;
}

/**
 * Stage 1 over any LangChain retriever. A retriever returns its own number of documents without scores, so the
 * candidates are its documents cut to `k`, scored 1/rank (`scoreKind` "reciprocal-rank"). Configure the retriever to
 * return at least `recallK` documents. A filter cannot be passed through a retriever and is refused: set it on the
 * retriever itself.
 *
 * @example
 * ```ts
 * const stage1 = new RetrieverSource(myStore.asRetriever({ k: 100, filter: { lang: "en" } }));
 * const retriever = new TwoStageRetriever({ stage1, recallK: 100, topK: 5 });
 * (await retriever.recall("what causes tides?"))[0].metadata; // { ..., recallRank: 1, recallScore: 1 }
 * ```
 */
export class RetrieverSource implements RecallSource {
  readonly name: string = "retriever";
  readonly scoreKind = "reciprocal-rank";

  constructor(
    readonly retriever: BaseRetrieverInterface,
    params: RetrieverSourceParams = {},
  ) {
    this.name = params.name ?? this.name;
  }

  async recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]> {
    if (filter !== undefined) {
      throw new InvalidArgumentError(
        "A LangChain retriever used as stage 1 takes no filter from TwoStageRetriever; configure the filter on that " +
          "retriever (e.g. store.asRetriever({ filter })) and leave the TwoStageRetriever's filter unset.",
        { argument: "filter" },
      );
    }
    const docs = await this.retriever.invoke(query);
    return docs.slice(0, k).map((doc, i) => ({
      document: copyDocument(doc),
      score: 1 / (i + 1),
    }));
  }
}
