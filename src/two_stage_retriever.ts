import type { CallbackManagerForRetrieverRun, Callbacks } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import { InvalidArgumentError } from "./errors.js";
import { checkQuery, positiveInteger } from "./validation.js";
import {
  type FaissFilter,
  FaissVectorStore,
  type FaissVectorStoreParams,
  matchesFilter,
} from "./recall/faiss_vector_store.js";
import { TransformersEmbeddings } from "./recall/transformers_embeddings.js";
import { CrossEncoderCompressor } from "./rerank/cross_encoder_compressor.js";

/** Options of {@link TwoStageRetriever}. */
export interface TwoStageRetrieverParams extends BaseRetrieverInput {
  /** Stage 1: a {@link FaissVectorStore}, a `FaissStore`, or any LangChain vector store (Qdrant, pgvector, …). */
  vectorStore: VectorStoreInterface;
  /**
   * Stage 2: any LangChain document compressor.
   * @default a CrossEncoderCompressor with Xenova/ms-marco-MiniLM-L-6-v2
   */
  compressor?: BaseDocumentCompressor;
  /**
   * Candidates fetched from stage 1. The relevant document must be among them: no reranker recovers a document
   * stage 1 did not return.
   * @default 50
   */
  recallK?: number;
  /**
   * Documents returned. For a CrossEncoderCompressor it is the rerank count; other compressors' output is cut to it.
   * @default 4
   */
  topK?: number;
  /**
   * Metadata filter, passed to stores that support one. For FaissStore (which ignores filters) it is applied here
   * over a widening candidate window; FaissVectorStore applies it itself.
   * @default undefined
   */
  filter?: FaissFilter | VectorStoreInterface["FilterType"];
  /**
   * Past this many milliseconds of reranking, return stage-1 order (marked `reranked: false`) instead of waiting.
   * @default undefined (no timeout)
   */
  rerankTimeoutMs?: number;
  /**
   * What a failing rerank does: `throw`, or `fallback` to stage-1 order marked `reranked: false`.
   * @default "throw"
   */
  onRerankError?: "throw" | "fallback";
}

/** Options of the factories: the retriever's options plus the embeddings for a new FAISS store. */
export type TwoStageRetrieverFactoryParams = Omit<TwoStageRetrieverParams, "vectorStore"> &
  FaissVectorStoreParams & {
    /**
     * Embeddings for stage 1.
     * @default a TransformersEmbeddings with Xenova/all-MiniLM-L6-v2
     */
    embeddings?: EmbeddingsInterface;
  };

/** One stage-1 candidate as {@link TwoStageRetriever.explain} reports it. */
export interface ExplainedCandidate {
  document: Document;
  /** 1-based stage-1 rank. */
  recallRank: number;
  recallScore: number;
  /** 1-based rank after reranking every candidate. */
  rerankRank: number;
  relevanceScore: number;
  /** Whether the retriever returns it (rerankRank ≤ topK). */
  returned: boolean;
}

/** What each stage did for one query. */
export interface Explanation {
  query: string;
  /** Every stage-1 candidate, in stage-1 order. */
  candidates: ExplainedCandidate[];
  timings: StageTimings;
}

/** Timings of one retrieval, in milliseconds. */
export interface StageTimings {
  recallMs: number;
  rerankMs: number;
}

class RerankTimeout extends Error {}

/**
 * Two-stage retrieval as one LangChain retriever: FAISS (or any vector store) recalls `recallK` candidates, a
 * cross-encoder reorders them, the best `topK` come back with `relevanceScore`, `rerankRank`, `recallScore` and
 * `recallRank` in their metadata. Stage 1 and stage 2 appear as child runs (`recall`, `rerank`) in callbacks and
 * `streamEvents`. Use it in chains, as an agent tool, or on its own.
 *
 * @example
 * ```ts
 * const retriever = await TwoStageRetriever.fromTexts(texts, {}, { recallK: 50, topK: 3 });
 * const docs = await retriever.invoke("what causes tides?");
 * docs.map((d) => [d.metadata.rerankRank, d.metadata.recallRank]); // [[1, 7], [2, 1], [3, 12]]
 * ```
 */
export class TwoStageRetriever extends BaseRetriever {
  static override lc_name(): string {
    return "TwoStageRetriever";
  }

  override lc_namespace = ["two_stage_retriever"];

  readonly vectorStore: VectorStoreInterface;
  readonly compressor: BaseDocumentCompressor;
  readonly recallK: number = 50;
  readonly topK: number = 4;
  readonly filter?: TwoStageRetrieverParams["filter"];
  readonly rerankTimeoutMs?: number;
  readonly onRerankError: "throw" | "fallback" = "throw";

  /** Timings of the most recent retrieval. */
  lastTimings?: StageTimings;

  constructor(params: TwoStageRetrieverParams) {
    super(params);
    if (!params?.vectorStore) {
      throw new InvalidArgumentError(
        "TwoStageRetriever needs a vectorStore (stage 1). Use TwoStageRetriever.fromDocuments to build one.",
      );
    }
    this.vectorStore = params.vectorStore;
    this.recallK = params.recallK ?? this.recallK;
    this.topK = params.topK ?? this.topK;
    this.filter = params.filter;
    this.rerankTimeoutMs = params.rerankTimeoutMs;
    this.onRerankError = params.onRerankError ?? this.onRerankError;
    positiveInteger("recallK", this.recallK);
    positiveInteger("topK", this.topK);
    if (this.topK > this.recallK) {
      throw new InvalidArgumentError(
        `topK (${this.topK}) must not exceed recallK (${this.recallK}): stage 2 can only return candidates stage 1 found.`,
      );
    }
    if (this.rerankTimeoutMs !== undefined) positiveInteger("rerankTimeoutMs", this.rerankTimeoutMs);
    if (this.onRerankError !== "throw" && this.onRerankError !== "fallback") {
      throw new InvalidArgumentError(
        `Unknown onRerankError '${String(this.onRerankError)}'. Expected one of: throw, fallback.`,
      );
    }
    this.compressor = params.compressor ?? new CrossEncoderCompressor({ topN: this.topK });
  }

  /** Builds a FAISS store over `docs` (embedding them) and a retriever on it. */
  static async fromDocuments(
    docs: DocumentInterface[],
    params: TwoStageRetrieverFactoryParams = {},
  ): Promise<TwoStageRetriever> {
    const { embeddings, filterOverFetch, ...rest } = params;
    const store = await FaissVectorStore.fromDocuments(docs, embeddings ?? new TransformersEmbeddings(), {
      filterOverFetch,
    });
    return new TwoStageRetriever({ ...rest, vectorStore: store });
  }

  /** {@link fromDocuments} from texts and metadata (one object per text, or one for all). */
  static async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    params: TwoStageRetrieverFactoryParams = {},
  ): Promise<TwoStageRetriever> {
    const docs = texts.map(
      (text, i) =>
        new Document({
          pageContent: text,
          metadata: { ...((Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {}) },
        }),
    );
    return TwoStageRetriever.fromDocuments(docs, params);
  }

  /** Loads a folder saved by {@link save} (or by `FaissStore.save`). */
  static async load(directory: string, params: TwoStageRetrieverFactoryParams = {}): Promise<TwoStageRetriever> {
    const { embeddings, filterOverFetch, ...rest } = params;
    const store = await FaissVectorStore.load(directory, embeddings ?? new TransformersEmbeddings(), {
      filterOverFetch,
    });
    return new TwoStageRetriever({ ...rest, vectorStore: store });
  }

  /** Adds documents to stage 1. */
  async addDocuments(docs: DocumentInterface[], options?: { ids?: string[] }): Promise<string[] | void> {
    return this.vectorStore.addDocuments(docs, options);
  }

  /** Saves stage 1 atomically (FaissVectorStore only). */
  async save(directory: string): Promise<void> {
    if (!(this.vectorStore instanceof FaissVectorStore)) {
      throw new InvalidArgumentError(
        `save() needs a FaissVectorStore; this retriever's store is a ${this.vectorStore._vectorstoreType()}, which persists itself.`,
      );
    }
    await this.vectorStore.save(directory);
  }

  /**
   * Stage 1 alone: the `recallK` candidates in stage-1 order, as new Documents with `recallRank` (1-based) and
   * `recallScore` (cosine for FAISS stores; FaissStore's squared L2 distance d is reported as 1 − d/2, the cosine of
   * normalised vectors; other stores' own score).
   */
  async recall(query: string, recallK = this.recallK): Promise<Document[]> {
    const store = this.vectorStore;
    const isLegacyFaiss = store._vectorstoreType() === "faiss";
    let pairs: [DocumentInterface, number][];
    if (isLegacyFaiss && this.filter !== undefined) {
      // FaissStore ignores filters: widen the window until recallK documents match or everything was seen.
      const total = (store as unknown as { index: { ntotal(): number } }).index.ntotal();
      let window = Math.min(total, recallK * 4);
      const vector = await store.embeddings.embedQuery(query);
      for (;;) {
        const found = await store.similaritySearchVectorWithScore(vector, window);
        pairs = found.filter(([doc]) => matchesFilter(this.filter as FaissFilter | undefined, doc)).slice(0, recallK);
        if (pairs.length >= recallK || window >= total) break;
        window = Math.min(total, window * 2);
      }
    } else {
      pairs = await store.similaritySearchWithScore(query, recallK, this.filter as never);
    }
    return pairs.map(
      ([doc, score], i) =>
        new Document({
          pageContent: doc.pageContent,
          id: doc.id,
          metadata: { ...doc.metadata, recallRank: i + 1, recallScore: isLegacyFaiss ? 1 - score / 2 : score },
        }),
    );
  }

  /**
   * Every stage-1 candidate with both ranks and both scores, and each stage's milliseconds: shows how far down
   * stage 1 the documents stage 2 picked were (if the best ones sit near `recallK`, raise it). The reranker must be a
   * {@link CrossEncoderCompressor} (other compressors do not expose scores for every candidate).
   *
   * @example
   * ```ts
   * const { candidates } = await retriever.explain("what causes tides?");
   * candidates.filter((c) => c.returned).map((c) => `${c.recallRank} → ${c.rerankRank}`); // ["7 → 1", "1 → 2", ...]
   * ```
   */
  async explain(query: string): Promise<Explanation> {
    if (!(this.compressor instanceof CrossEncoderCompressor)) {
      throw new InvalidArgumentError("explain() needs a CrossEncoderCompressor as stage 2, to score every candidate.");
    }
    const recallStarted = performance.now();
    const candidates = await this.recall(query);
    const recallMs = performance.now() - recallStarted;
    const rerankStarted = performance.now();
    const scores =
      candidates.length === 0
        ? []
        : await this.compressor.score(
            query,
            candidates.map((d) => d.pageContent),
          );
    const rerankMs = performance.now() - rerankStarted;
    const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    const rerankRank = new Array<number>(scores.length);
    order.forEach((candidate, rank) => (rerankRank[candidate] = rank + 1));
    return {
      query,
      candidates: candidates.map((document, i) => ({
        document,
        recallRank: i + 1,
        recallScore: Number(document.metadata.recallScore),
        rerankRank: rerankRank[i],
        relevanceScore: scores[i],
        returned: rerankRank[i] <= this.topK,
      })),
      timings: { recallMs, rerankMs },
    };
  }

  private async rerankWith(
    candidates: Document[],
    query: string,
    callbacks: Callbacks | undefined,
  ): Promise<DocumentInterface[]> {
    if (this.compressor instanceof CrossEncoderCompressor) {
      return this.compressor.rerankDocuments(
        candidates,
        query,
        Math.min(this.topK, Math.max(1, candidates.length)),
        callbacks,
      );
    }
    return (await this.compressor.compressDocuments(candidates, query, callbacks)).slice(0, this.topK);
  }

  /** Stage-1 order, cut to topK, marked as not reranked (timeouts and the `fallback` policy). */
  private fallback(candidates: Document[], reason: string): Document[] {
    return candidates.slice(0, this.topK).map(
      (doc) =>
        new Document({
          pageContent: doc.pageContent,
          id: doc.id,
          metadata: { ...doc.metadata, reranked: false, rerankFallback: reason },
        }),
    );
  }

  override async _getRelevantDocuments(
    query: string,
    runManager?: CallbackManagerForRetrieverRun,
  ): Promise<DocumentInterface[]> {
    checkQuery(query);
    const recallStarted = performance.now();
    const recallRun = await runManager
      ?.getChild("recall")
      .handleChainStart(
        { lc: 1, type: "not_implemented", id: ["two_stage_retriever", "recall"] },
        { query, recallK: this.recallK },
        undefined,
        undefined,
        undefined,
        undefined,
        "recall",
      );
    let candidates: Document[];
    try {
      candidates = await this.recall(query);
    } catch (error) {
      await recallRun?.handleChainError(error);
      throw error;
    }
    const recallMs = performance.now() - recallStarted;
    await recallRun?.handleChainEnd({ candidates: candidates.length, ms: recallMs });
    if (candidates.length === 0) {
      this.lastTimings = { recallMs, rerankMs: 0 };
      return [];
    }

    const rerankStarted = performance.now();
    const rerankRun = await runManager
      ?.getChild("rerank")
      .handleChainStart(
        { lc: 1, type: "not_implemented", id: ["two_stage_retriever", "rerank"] },
        { query, candidates: candidates.length, topK: this.topK },
        undefined,
        undefined,
        undefined,
        undefined,
        "rerank",
      );
    let result: DocumentInterface[];
    let timer: NodeJS.Timeout | undefined;
    try {
      const rerank = this.rerankWith(candidates, query, rerankRun?.getChild());
      if (this.rerankTimeoutMs === undefined) {
        result = await rerank;
      } else {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RerankTimeout()), this.rerankTimeoutMs);
        });
        rerank.catch(() => undefined); // a rerank that fails after the timeout must not go unhandled
        result = await Promise.race([rerank, timeout]);
      }
      result = result.map(
        (doc) =>
          new Document({ pageContent: doc.pageContent, id: doc.id, metadata: { ...doc.metadata, reranked: true } }),
      );
    } catch (error) {
      if (error instanceof RerankTimeout) {
        result = this.fallback(candidates, `rerank exceeded ${this.rerankTimeoutMs} ms`);
      } else if (this.onRerankError === "fallback") {
        result = this.fallback(candidates, `rerank failed: ${error instanceof Error ? error.message : String(error)}`);
      } else {
        await rerankRun?.handleChainError(error);
        throw error;
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
    const rerankMs = performance.now() - rerankStarted;
    await rerankRun?.handleChainEnd({
      returned: result.length,
      reranked: result[0]?.metadata.reranked === true,
      ms: rerankMs,
    });
    this.lastTimings = { recallMs, rerankMs };
    return result;
  }
}
