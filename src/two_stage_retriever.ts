import {
  CallbackManager,
  type CallbackManagerForRetrieverRun,
  type Callbacks,
  parseCallbackConfigArg,
} from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import { type RunnableConfig, ensureConfig } from "@langchain/core/runnables";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import { withRun } from "./callbacks.js";
import { DEFAULT_RECALL_K, DEFAULT_TOP_K } from "./defaults.js";
import { DisposedError, InvalidArgumentError } from "./errors.js";
import {
  RETRIEVAL_METADATA_KEYS,
  type RetrievedDocumentMetadata,
  shadowMetadata,
} from "./documents/result_metadata.js";
import {
  batchIds,
  checkDeleteIds,
  checkDocumentList,
  checkIndexDocuments,
  checkQuery,
  checkUpsert,
  describeValue,
  positiveInteger,
} from "./validation.js";
import {
  type RetrievalOptions,
  type TwoStageConfigurable,
  callRetrievalOptions,
  checkRetrievalOptions,
} from "./retrieval_options.js";
import {
  type BuildStage1Params,
  type Stage1Kind,
  buildStage1,
  checkStage1Kind,
  stage1Source,
  updateStage1,
} from "./recall/build_stage1.js";
import { type Stage1Parts, loadStage1, partsKind, saveStage1 } from "./recall/stage1_folder.js";
import { type RecallFilter, type RecallSource, isRecallSource } from "./recall/recall_source.js";
import { type Stage1, toRecallSource } from "./recall/to_recall_source.js";
import { TransformersEmbeddings } from "./models/transformers_embeddings.js";
import {
  type CandidateRanking,
  type DroppedReason,
  type StageResult,
  stageResults,
} from "./rerank/candidate_ranking.js";
import { CrossEncoderCompressor } from "./rerank/cross_encoder_compressor.js";
import { type Stage2, toStage2 } from "./rerank/stage2.js";
import { TRACE_LIMIT, type TracedRank, rankingTrace, traceScore } from "./rerank/ranking_trace.js";
import { documentsFromTexts } from "./documents/documents_from_texts.js";
import { copyDocument } from "./documents/copy_document.js";
import { traceId } from "./documents/document_key.js";
import { type WithHtml, withExplanationHtml } from "./explanation_html.js";
import {
  RETRIEVER_FIELD,
  type RetrieverOverrides,
  type SavedRetrieverSettings,
  readRetrieverSettings,
  restoreSettings,
  retrieverSettings,
} from "./retriever_settings.js";

/** Options of {@link TwoStageRetriever}. */
export interface TwoStageRetrieverParams extends BaseRetrieverInput {
  /**
   * Stage 1: a {@link RecallSource} (e.g. a BM25 index or a hybrid of several), or any LangChain vector store
   * ({@link FaissVectorStore}, `FaissStore`, `MemoryVectorStore`, `PGVectorStore`, …) or retriever, adapted by
   * `toRecallSource`. Give this or `vectorStore`.
   */
  stage1?: Stage1;
  /** Stage 1 as a LangChain vector store: the same as {@link stage1} given a vector store. */
  vectorStore?: VectorStoreInterface;
  /**
   * Stage 2: any LangChain document compressor.
   * @default a CrossEncoderCompressor with Xenova/ms-marco-MiniLM-L-6-v2
   */
  compressor?: BaseDocumentCompressor;
  /**
   * Candidates fetched from stage 1. The relevant document must be among them: no reranker recovers a document
   * stage 1 did not return.
   * @default 20
   */
  recallK?: number;
  /**
   * Documents returned.
   * @default 4
   */
  topK?: number;
  /**
   * Metadata filter: a predicate, or metadata fields that must equal the given values. Applied natively, translated
   * for the store, or over a widening candidate window (FaissStore ignores filters itself); a filter a store cannot
   * take is refused, never ignored.
   * @default undefined
   */
  filter?: RecallFilter;
  /**
   * Past this many milliseconds of reranking, return stage-1 order (marked `reranked: false`) instead of waiting, and
   * cancel the rerank (a ranking compressor starts no further batch; a remote one aborts its request). A whole number
   * from 1 to 2³¹ − 1 (the longest timer Node supports; a longer one would fire after 1 ms).
   * @default undefined (no timeout)
   */
  rerankTimeoutMs?: number;
  /**
   * What a failing rerank does: `throw`, or `fallback` to stage-1 order marked `reranked: false`.
   * @default "throw"
   */
  onRerankError?: "throw" | "fallback";
}

/**
 * The config of one call (`invoke`, `batch`, `explain`, an agent tool): LangChain's `RunnableConfig`, whose
 * `configurable` may set {@link TwoStageConfigurable} options for this call, and whose `signal` (or `timeout`) stops
 * it — stage 2 starts no further batch or request once it fires.
 */
export type TwoStageRetrieverCallOptions = RunnableConfig<TwoStageConfigurable & Record<string, unknown>>;

/** Options of the factories: the retriever's options plus what to build stage 1 with. */
export type TwoStageRetrieverFactoryParams = Omit<TwoStageRetrieverParams, "vectorStore" | "stage1"> &
  Omit<BuildStage1Params, "embeddings"> & {
    /**
     * Which stage 1 to build: `dense` (FAISS over embeddings), `bm25` (no model), or `hybrid` (both, fused by RRF).
     * @default "dense"
     */
    stage1Kind?: Stage1Kind;
    /**
     * Embeddings for a dense or hybrid stage 1 (not created for `bm25`).
     * @default a TransformersEmbeddings with Xenova/bge-small-en-v1.5
     */
    embeddings?: EmbeddingsInterface;
  };

/** One stage-1 candidate as {@link TwoStageRetriever.explain} reports it. */
export interface ExplainedCandidate {
  document: Document;
  /** 1-based stage-1 rank. */
  recallRank: number;
  recallScore: number;
  /** 1-based rank among the candidates stage 2 kept; undefined when it dropped this one or did not run. */
  rerankRank?: number;
  /** Stage-2 score; undefined when stage 2 did not score this candidate (timeout, fallback, compressor without scores). */
  relevanceScore?: number;
  /** Why stage 2 left this candidate out, if it did. */
  dropped?: DroppedReason;
  /** With a cascade: each stage that ranked this candidate, first to last, with its score and rank. */
  stages?: StageResult[];
  /** False when a latency budget stopped stage 2 before it read this candidate. */
  reranked?: boolean;
  /** Whether `invoke` returns it: exactly the documents of the same retrieval. */
  returned: boolean;
}

/** What each stage did for one query. */
export interface Explanation {
  query: string;
  /** Every stage-1 candidate, in stage-1 order. */
  candidates: ExplainedCandidate[];
  /** The documents `invoke` returns for this retrieval, in order. */
  documents: DocumentInterface<RetrievedDocumentMetadata>[];
  timings: StageTimings;
}

/** Timings of one retrieval, in milliseconds. */
export interface StageTimings {
  recallMs: number;
  rerankMs: number;
}

/** Everything one retrieval did; `invoke` returns its `documents`, `explain` shows all of it. */
interface Retrieval {
  candidates: Document[];
  ranking?: CandidateRanking;
  documents: DocumentInterface<RetrievedDocumentMetadata>[];
  timings: StageTimings;
}

class RerankTimeout extends Error {}

/**
 * Two-stage retrieval as one LangChain retriever: stage 1 (FAISS, BM25, any vector store or retriever) recalls
 * `recallK` candidates, a cross-encoder reorders them, the best `topK` come back with `relevanceScore`,
 * `rerankRank`, `recallScore` and `recallRank` in their metadata. Stage 1 and stage 2 appear as child runs
 * (`recall`, `rerank`) in callbacks and `streamEvents`. Use it in chains, as an agent tool, or on its own.
 *
 * @example
 * ```ts
 * const retriever = await TwoStageRetriever.fromTexts(texts, {}, { recallK: 50, topK: 3 });
 * const docs = await retriever.invoke("what causes tides?");
 * docs.map((d) => [d.metadata.rerankRank, d.metadata.recallRank]); // [[1, 7], [2, 1], [3, 12]]
 * ```
 */
export class TwoStageRetriever extends BaseRetriever<RetrievedDocumentMetadata> {
  static override lc_name(): string {
    return "TwoStageRetriever";
  }

  override lc_namespace = ["two_stage_retriever"];

  /** Stage 1. */
  readonly source: RecallSource;
  /** The vector store given as stage 1, if one was. */
  readonly vectorStore?: VectorStoreInterface;
  readonly compressor: BaseDocumentCompressor;
  readonly recallK: number = DEFAULT_RECALL_K;
  readonly topK: number = DEFAULT_TOP_K;
  readonly filter?: RecallFilter;
  readonly rerankTimeoutMs?: number;
  readonly onRerankError: "throw" | "fallback" = "throw";

  /** Timings of the most recent retrieval. */
  lastTimings?: StageTimings;

  /** The kind of a stage 1 built by the factories or `load` (`dense`, `bm25`, `hybrid`); undefined otherwise. */
  get stage1Kind(): Stage1Kind | undefined {
    return this.parts ? partsKind(this.parts) : undefined;
  }

  private readonly stage2: Stage2;
  /** The stage-1 parts the factories or `load` built, which {@link save} writes. */
  private parts?: Stage1Parts;
  /** What this retriever created itself and must release in {@link dispose}. */
  private readonly owned: { dispose?(): Promise<void> }[] = [];
  private disposed = false;
  /** A hybrid's fusion options and dense weight, as the factories or `load` got them (recorded by `save`). */
  private fusionSettings: Pick<RetrieverOverrides, "fusion" | "denseWeight"> = {};

  constructor(params: TwoStageRetrieverParams) {
    super(params);
    const stage1 = params?.stage1 ?? params?.vectorStore;
    if (!stage1) {
      throw new InvalidArgumentError(
        "TwoStageRetriever needs stage 1: pass `stage1` (a vector store, retriever or RecallSource) or " +
          "`vectorStore`, or build one with TwoStageRetriever.fromDocuments.",
        { argument: "stage1" },
      );
    }
    if (params.stage1 && params.vectorStore && !usesStore(params.stage1, params.vectorStore)) {
      throw new InvalidArgumentError("Pass stage 1 once: `stage1` or `vectorStore`, not both.", {
        argument: "vectorStore",
      });
    }
    this.source = toRecallSource(stage1);
    this.vectorStore = params.vectorStore ?? (isVectorStore(stage1) ? stage1 : undefined);
    this.recallK = params.recallK ?? this.recallK;
    this.topK = params.topK ?? this.topK;
    this.filter = params.filter;
    this.rerankTimeoutMs = params.rerankTimeoutMs;
    this.onRerankError = params.onRerankError ?? this.onRerankError;
    checkRetrievalOptions(this.options);
    if (params.compressor !== undefined && typeof params.compressor?.compressDocuments !== "function") {
      throw new InvalidArgumentError(
        `compressor must be a LangChain document compressor (with compressDocuments(documents, query)); got ` +
          `${describeValue(params.compressor)}${params.compressor && typeof params.compressor === "object" ? " without compressDocuments" : ""}. ` +
          "Pass e.g. new CrossEncoderCompressor(), or omit it for the default reranker.",
        { argument: "compressor" },
      );
    }
    if (params.compressor) {
      this.compressor = params.compressor;
    } else {
      const reranker = new CrossEncoderCompressor({ topN: this.topK });
      this.compressor = reranker;
      this.owned.push(reranker);
    }
    this.stage2 = toStage2(this.compressor);
  }

  /**
   * Builds stage 1 over `docs` — a FAISS store (embedding them), a BM25 index, or both fused (`stage1Kind`) — and a
   * retriever on it.
   */
  static async fromDocuments(
    docs: DocumentInterface[],
    params: TwoStageRetrieverFactoryParams = {},
  ): Promise<TwoStageRetriever> {
    checkDocumentList(docs, "docs");
    const { embeddings, filterOverFetch, bm25, fusion, denseWeight, stage1Kind = "dense", ...rest } = params;
    checkStage1Kind(stage1Kind, "stage1Kind");
    const owned = embeddings || stage1Kind === "bm25" ? undefined : new TransformersEmbeddings();
    const built = await buildStage1(stage1Kind, docs, {
      embeddings: embeddings ?? owned,
      filterOverFetch,
      bm25,
      fusion,
      denseWeight,
    });
    const retriever = new TwoStageRetriever({ ...rest, stage1: built.source, vectorStore: built.store });
    retriever.parts = { store: built.store, bm25: built.bm25 };
    retriever.fusionSettings = { fusion, denseWeight };
    if (owned) retriever.owned.push(owned);
    return retriever;
  }

  /** {@link fromDocuments} from texts and metadata (one object per text, or one for all). */
  static async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    params: TwoStageRetrieverFactoryParams = {},
  ): Promise<TwoStageRetriever> {
    return TwoStageRetriever.fromDocuments(documentsFromTexts(texts, metadatas), params);
  }

  /**
   * Loads a folder saved by {@link save} (or by the CLI, `FaissVectorStore.save` or LangChain's `FaissStore.save`) as
   * its manifest (`two-stage.json`) describes it: the stage-1 kind, the embedding model and profile the vectors
   * were made with (used unless you pass `embeddings`, whose dimension is checked here, at load), and the retriever
   * it was saved from — `recallK`, `topK`, the reranker or cascade with its options, the timeout and error policy,
   * a metadata filter, a hybrid's fusion. Options passed here override what was saved. What could not be saved (a
   * compressor of your own, a filter function) must be passed again; without it `load` throws an
   * {@link InvalidArgumentError} naming it. A folder without a manifest loads as a dense stage 1 with the default
   * embedding model and the default retriever options.
   *
   * @example
   * ```ts
   * await (await TwoStageRetriever.fromTexts(texts, {}, { recallK: 20, topK: 2 })).save("./my-index");
   * const retriever = await TwoStageRetriever.load("./my-index");
   * [retriever.recallK, retriever.topK]; // [20, 2]
   * ```
   */
  static async load(directory: string, params: TwoStageRetrieverFactoryParams = {}): Promise<TwoStageRetriever> {
    const { embeddings, filterOverFetch, bm25, stage1Kind, fusion, denseWeight, ...rest } = params;
    const loaded = await loadStage1(directory, { embeddings, filterOverFetch, bm25 });
    let restored: ReturnType<typeof restoreSettings>;
    try {
      if (stage1Kind !== undefined && checkStage1Kind(stage1Kind, "stage1Kind") !== loaded.kind) {
        throw new InvalidArgumentError(
          `${directory} holds a ${loaded.kind} stage 1, not ${stage1Kind}. Omit stage1Kind, or rebuild the index as ${stage1Kind}.`,
          { argument: "stage1Kind" },
        );
      }
      const saved = readRetrieverSettings(loaded.manifest, directory);
      restored = restoreSettings(saved, { ...rest, fusion, denseWeight }, directory);
    } catch (error) {
      await loaded.createdEmbeddings?.dispose();
      throw error;
    }
    const { built, fusion: savedFusion, denseWeight: savedWeight, ...settings } = restored;
    const retriever = new TwoStageRetriever({
      ...rest,
      ...settings,
      stage1: stage1Source(loaded.parts, { fusion: savedFusion, denseWeight: savedWeight }),
      vectorStore: loaded.parts.store,
    });
    retriever.parts = loaded.parts;
    retriever.fusionSettings = { fusion: savedFusion, denseWeight: savedWeight };
    if (loaded.createdEmbeddings) retriever.owned.push(loaded.createdEmbeddings);
    if (built) retriever.owned.push(built);
    return retriever;
  }

  /**
   * Adds documents to stage 1 (sources that hold their own index). With `upsert: true`, a document whose id is held
   * replaces it (its vector too) instead of being refused. A stage 1 built by the factories or `load` keeps its FAISS
   * store and BM25 index in step: everything is checked and embedded before either changes. {@link save} makes it
   * durable.
   */
  async addDocuments(
    docs: DocumentInterface[],
    options?: { ids?: string[]; upsert?: boolean },
  ): Promise<string[] | void> {
    this.checkNotDisposed();
    if (this.parts) {
      checkIndexDocuments(docs);
      const { store, bm25 } = this.parts;
      const upsert = checkUpsert(options?.upsert);
      const held = (id: string) => !upsert && (store?.has(id) === true || bm25?.has(id) === true);
      const ids = batchIds(docs, options?.ids, held, "index");
      await updateStage1(this.parts, { documents: docs, ids });
      return ids;
    }
    if (!this.source.addDocuments) {
      throw new InvalidArgumentError(
        `Stage 1 (${this.source.name}) does not take documents from here; add them to it directly.`,
      );
    }
    return this.source.addDocuments(docs, options);
  }

  /**
   * Deletes documents from stage 1 by id (sources that hold their own index): a FAISS store and a BM25 index built
   * by the factories or `load` are kept in step. An id stage 1 does not hold is refused before anything changes.
   * {@link save} makes it durable (crash-safely: after a kill, the old or the new index loads, whole).
   *
   * @example
   * ```ts
   * await retriever.delete({ ids: ["faq-12"] });
   * await retriever.save("./my-index");
   * ```
   */
  async delete(params: { ids: string[] }): Promise<void> {
    this.checkNotDisposed();
    if (this.parts) {
      const { store, bm25 } = this.parts;
      const held = (id: string) => (store?.has(id) ?? true) && (bm25?.has(id) ?? true);
      await updateStage1(this.parts, { deleteIds: checkDeleteIds(params, held, "index") });
      return;
    }
    if (!this.source.delete) {
      throw new InvalidArgumentError(
        `Stage 1 (${this.source.name}) does not delete documents from here; delete them from it directly.`,
      );
    }
    await this.source.delete(params);
  }

  /**
   * Saves stage 1 into `directory`, crash-safely, with a manifest (`two-stage.json`) recording the stage-1 kind and
   * the embedding model and profile, so {@link load} queries it exactly as it was built. A stage 1 built by the
   * factories or `load` (FAISS, BM25, or both: saved together in one commit); otherwise the source's own `save`.
   * A target that is not an index (a file, a non-empty folder of other files, `.`) is refused, never overwritten.
   * `manifest` adds fields to `two-stage.json`.
   */
  async save(directory: string, manifest: Record<string, unknown> = {}): Promise<void> {
    this.checkNotDisposed();
    if (this.parts) {
      await saveStage1(directory, this.parts, { ...manifest, [RETRIEVER_FIELD]: this.settings() });
      return;
    }
    if (!this.source.save) {
      throw new InvalidArgumentError(`Stage 1 (${this.source.name}) has no save(); it persists itself.`);
    }
    await this.source.save(directory);
  }

  /** What {@link save} records about this retriever (beside stage 1), so {@link load} rebuilds it. */
  settings(): SavedRetrieverSettings {
    return retrieverSettings({
      recallK: this.recallK,
      topK: this.topK,
      rerankTimeoutMs: this.rerankTimeoutMs,
      onRerankError: this.onRerankError,
      filter: this.filter,
      compressor: this.compressor,
      ...this.fusionSettings,
    });
  }

  /**
   * Releases what this retriever created (the default reranker, embeddings made by a factory or `load`, the FAISS
   * index a factory or `load` built); models, stores and compressors you passed in are left to you. Models load
   * again on demand, but a disposed FAISS index is gone: dispose a retriever built by a factory when done with it.
   * Every later call on this retriever (`invoke`, `recall`, `explain`, `save`, `addDocuments`) throws a
   * {@link DisposedError}.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.owned.map((part) => part.dispose?.()));
    if (this.parts?.store) {
      this.parts.store.dispose(); // built by a factory or load: ours to free
      this.parts = undefined;
    }
  }

  /**
   * Documents by id, as search results name them (`doc.id`, `metadata.id` or `metadata.docId`; `text:<start>` for a
   * document without one), in the order of `ids`, undefined for an id stage 1 does not hold. Stage 1 must be able to
   * look documents up (FaissVectorStore, Bm25Index, hybrids of them); others throw, saying so.
   *
   * @example
   * ```ts
   * const [best] = await retriever.invoke("what causes tides?");
   * const [same] = await retriever.getDocuments([best.id!]);
   * ```
   */
  async getDocuments(ids: readonly string[]): Promise<(Document | undefined)[]> {
    this.checkNotDisposed();
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) {
      throw new InvalidArgumentError(
        `ids must be an array of non-empty strings; got ${describeValue(ids)}. Pass the ids of search results.`,
        { argument: "ids" },
      );
    }
    if (!this.source.getDocuments) {
      throw new InvalidArgumentError(
        `Stage 1 '${this.source.name}' cannot look documents up by id (FaissVectorStore, Bm25Index and hybrids of ` +
          "them can).",
      );
    }
    const found = await this.source.getDocuments(ids);
    return found.map((doc) => (doc ? copyDocument(doc) : undefined));
  }

  /**
   * Stage 1 alone: the `recallK` candidates in stage-1 order, as new Documents with `recallRank` (1-based) and
   * `recallScore` (higher is better: cosine for the known vector stores, BM25 for a BM25 index, the fused score for
   * hybrids; see the source's `scoreKind`) in their metadata, plus the source's per-candidate details. A document's
   * own value of a key this package writes is kept under `metadata.shadowedMetadata`, never overwritten.
   */
  async recall(query: string, recallK: number = this.recallK): Promise<Document[]> {
    this.checkNotDisposed();
    checkQuery(query);
    positiveInteger("recallK", recallK);
    return this.recallChecked(query, recallK);
  }

  /** {@link recall} on checked arguments: the query is checked once, at the public method that received it. */
  private async recallChecked(query: string, recallK: number, filter = this.filter): Promise<Document[]> {
    const found = await this.source.recall(query, recallK, filter);
    return found.slice(0, recallK).map(({ document, score, details }, i) =>
      copyDocument(document, {
        ...shadowMetadata(document.metadata, [...RETRIEVAL_METADATA_KEYS, ...Object.keys(details ?? {})]),
        ...details,
        recallRank: i + 1,
        recallScore: score,
      }),
    );
  }

  /**
   * Every stage-1 candidate with both ranks, both scores and whether it is returned, the returned documents, and
   * each stage's milliseconds — from the very retrieval `invoke` runs, so `returned` marks exactly what `invoke`
   * returns (after dedupe, `scoreThreshold`, timeouts and fallbacks). If the best documents sit near `recallK`,
   * raise it. `config` is the callbacks, or a config as `invoke` takes it (per-call `configurable` options, `signal`).
   *
   * @example
   * ```ts
   * const { candidates } = await retriever.explain("what causes tides?");
   * candidates.filter((c) => c.returned).map((c) => `${c.recallRank} → ${c.rerankRank}`); // ["7 → 1", "1 → 2", ...]
   * ```
   */
  async explain(query: string, config?: Callbacks | TwoStageRetrieverCallOptions): Promise<WithHtml<Explanation>> {
    const { callbacks, configurable, signal } = parseCallbackConfigArg(config) as TwoStageRetrieverCallOptions;
    const options = callRetrievalOptions(this.options, configurable);
    const { candidates, ranking, documents, timings } = await this.retrieve(query, callbacks, options, signal);
    const returned = new Set(documents.map((doc) => doc.metadata.recallRank as number));
    const rerankRank = new Map(ranking?.order.map((candidate, rank) => [candidate, rank + 1]));
    return withExplanationHtml({
      query,
      candidates: candidates.map((document, i) => ({
        document,
        recallRank: i + 1,
        recallScore: document.metadata.recallScore as number,
        rerankRank: rerankRank.get(i),
        relevanceScore: ranking && Number.isFinite(ranking.scores[i]) ? ranking.scores[i] : undefined,
        dropped: ranking?.dropped[i],
        ...(ranking?.stages ? { stages: stageResults(ranking, i) } : {}),
        ...(ranking?.reranked ? { reranked: ranking.reranked[i] } : {}),
        returned: returned.has(i + 1),
      })),
      documents,
      timings,
    });
  }

  /**
   * Retrieves the `topK` best documents for `query` (LangChain's `Runnable.invoke`, which `batch`, `stream`,
   * `withConfig` and agent tools call). `options.configurable` may change `recallK`, `topK`, `filter`,
   * `rerankTimeoutMs` and `onRerankError` for this call — checked exactly as the constructor checks them — and
   * `options.signal` (or `timeout`) stops the call: stage 2 starts no further batch or request, and the call rejects
   * with the signal's reason (never a fallback).
   *
   * @example
   * ```ts
   * const docs = await retriever.invoke("what causes tides?", { configurable: { topK: 2, filter: { lang: "en" } } });
   * docs.length; // 2
   * ```
   */
  override async invoke(
    input: string,
    options?: TwoStageRetrieverCallOptions,
  ): Promise<DocumentInterface<RetrievedDocumentMetadata>[]> {
    // BaseRetriever.invoke hands _getRelevantDocuments only the run manager; this is its body with the config kept.
    const config = ensureConfig(parseCallbackConfigArg(options)) as TwoStageRetrieverCallOptions;
    const manager = await CallbackManager.configure(
      config.callbacks,
      this.callbacks,
      config.tags,
      this.tags,
      config.metadata,
      this.metadata,
      { verbose: this.verbose },
    );
    const runManager = await manager?.handleRetrieverStart(
      this.toJSON(),
      input,
      config.runId,
      undefined,
      undefined,
      undefined,
      config.runName,
    );
    try {
      const call = callRetrievalOptions(this.options, config.configurable);
      const { documents } = await this.retrieve(input, runManager, call, config.signal);
      await runManager?.handleRetrieverEnd(documents);
      return documents;
    } catch (error) {
      await runManager?.handleRetrieverError(error);
      throw error;
    }
  }

  override async _getRelevantDocuments(
    query: string,
    runManager?: CallbackManagerForRetrieverRun,
  ): Promise<DocumentInterface<RetrievedDocumentMetadata>[]> {
    return (await this.retrieve(query, runManager, this.options)).documents;
  }

  /**
   * The one retrieval path behind `invoke`, `explain` and the CLI: stage 1, then stage 2 with its policies. The
   * `recall` and `rerank` runs end with what they did (ids, ranks, scores, moves; see `ranking_trace.ts`).
   */
  private async retrieve(
    query: string,
    callbacks: CallbackManagerForRetrieverRun | Callbacks | undefined,
    options: RetrievalOptions,
    signal?: AbortSignal,
  ): Promise<Retrieval> {
    this.checkNotDisposed();
    checkQuery(query);
    signal?.throwIfAborted();
    const { recallK, topK, filter } = options;
    const child = (tag: string): Callbacks | undefined =>
      callbacks && "getChild" in callbacks ? callbacks.getChild(tag) : (callbacks as Callbacks | undefined);
    const { result: candidates, ms: recallMs } = await withRun(
      child("recall"),
      "recall",
      {
        query,
        recallK,
        ...(filter === undefined ? {} : { filter: typeof filter === "function" ? "function" : filter }),
      },
      () => untilAborted(this.recallChecked(query, recallK, filter), signal),
      (found, ms) => ({ ...recallTrace(found, this.source), ms: roundMs(ms) }),
    );
    signal?.throwIfAborted();
    if (candidates.length === 0) {
      this.lastTimings = { recallMs, rerankMs: 0 };
      return { candidates, documents: [], timings: this.lastTimings };
    }
    const {
      result: { ranking, documents },
      ms: rerankMs,
    } = await withRun(
      child("rerank"),
      "rerank",
      { query, candidates: candidates.length, topK },
      (run) => this.rerank(candidates, query, run?.getChild(), options, signal),
      (reranked, ms) => ({
        returned: reranked.documents.length,
        reranked: reranked.fallback === undefined && reranked.documents[0]?.metadata.reranked === true,
        ...(reranked.fallback === undefined ? {} : { fallback: reranked.fallback }),
        ...(reranked.ranking
          ? rankingTrace(candidates, reranked.ranking, {
              rank: (i) => i + 1,
              score: (i) => candidates[i].metadata.recallScore as number,
            })
          : { ranked: fallbackTrace(reranked.documents) }),
        ms: roundMs(ms),
      }),
    );
    this.lastTimings = { recallMs, rerankMs };
    return { candidates, ranking, documents, timings: this.lastTimings };
  }

  /**
   * Stage 2 with its policies: the compressor's ranking, or stage-1 order marked `reranked: false` when the rerank
   * exceeds `rerankTimeoutMs` or fails under `onRerankError: "fallback"`. The timeout and the caller's `signal` both
   * abort the signal stage 2 gets, so the work stops (no further batch or request), not only the waiting; a caller's
   * abort rejects with its reason.
   */
  private async rerank(
    candidates: Document[],
    query: string,
    callbacks: Callbacks | undefined,
    options: RetrievalOptions,
    signal: AbortSignal | undefined,
  ): Promise<{
    ranking?: CandidateRanking;
    documents: DocumentInterface<RetrievedDocumentMetadata>[];
    fallback?: string;
  }> {
    const { rerankTimeoutMs, topK } = options;
    let timer: NodeJS.Timeout | undefined;
    const cancel = rerankTimeoutMs === undefined && signal === undefined ? undefined : new AbortController();
    const forward = () => cancel!.abort(signal!.reason);
    signal?.addEventListener("abort", forward, { once: true });
    try {
      const rerank = this.stage2.rank(candidates, query, topK, callbacks, cancel?.signal);
      let outcome: Awaited<typeof rerank>;
      if (cancel === undefined) {
        outcome = await rerank;
      } else {
        if (rerankTimeoutMs !== undefined) {
          // The work stops too, not only the waiting: stage 2 sees the same signal.
          timer = setTimeout(
            () => cancel.abort(new RerankTimeout(`rerank exceeded ${rerankTimeoutMs} ms`)),
            rerankTimeoutMs,
          );
        }
        rerank.catch(() => undefined); // a rerank that fails after the abort must not go unhandled
        outcome = await untilAborted(rerank, cancel.signal);
      }
      const { ranking } = outcome;
      const documents = outcome.documents.map((doc) =>
        // A budgeted stage 2 marks the candidates it did not read.
        copyDocument<RetrievedDocumentMetadata>(doc, {
          ...(doc.metadata as RetrievedDocumentMetadata),
          reranked: ranking.reranked?.[(doc.metadata.recallRank as number) - 1] !== false,
        }),
      );
      return { ranking, documents };
    } catch (error) {
      if (signal?.aborted) throw signal.reason; // the caller stopped the call: no fallback
      if (error instanceof RerankTimeout) {
        const reason = `rerank exceeded ${rerankTimeoutMs} ms`;
        return { documents: this.fallback(candidates, reason, topK), fallback: reason };
      }
      if (options.onRerankError === "fallback") {
        const reason = `rerank failed: ${error instanceof Error ? error.message : String(error)}`;
        return { documents: this.fallback(candidates, reason, topK), fallback: reason };
      }
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    }
  }

  /** The retriever's own options: what a call runs with unless its `configurable` changes some. */
  private get options(): RetrievalOptions {
    const { recallK, topK, filter, rerankTimeoutMs, onRerankError } = this;
    return { recallK, topK, filter, rerankTimeoutMs, onRerankError };
  }

  private checkNotDisposed(): void {
    if (this.disposed) {
      throw new DisposedError(
        "This TwoStageRetriever was disposed; build or load a new one (TwoStageRetriever.fromDocuments / load).",
      );
    }
  }

  /** Stage-1 order, cut to topK, marked as not reranked (timeouts and the `fallback` policy). */
  private fallback(candidates: Document[], reason: string, topK: number): Document<RetrievedDocumentMetadata>[] {
    return candidates.slice(0, topK).map((doc) =>
      copyDocument<RetrievedDocumentMetadata>(doc, {
        ...(doc.metadata as RetrievedDocumentMetadata),
        reranked: false,
        rerankFallback: reason,
      }),
    );
  }
}

/** Whether `stage1` is `store`, or a source the factories built over it. */
function usesStore(stage1: Stage1, store: VectorStoreInterface): boolean {
  return stage1 === store || (isRecallSource(stage1) && !isVectorStore(stage1));
}

function isVectorStore(stage1: Stage1): stage1 is VectorStoreInterface {
  return typeof (stage1 as Partial<VectorStoreInterface>).similaritySearchWithScore === "function";
}

/**
 * `work`, or a rejection with the signal's reason as soon as `signal` aborts (the work itself is stopped by whoever
 * holds the signal; this stops the waiting).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort!));
}

/** The `recall` run's outputs: the candidates' ids and scores in stage-1 order (ids and numbers, bounded). */
function recallTrace(candidates: readonly Document[], source: RecallSource): Record<string, unknown> {
  const shown = candidates.slice(0, TRACE_LIMIT);
  return {
    candidates: candidates.length,
    source: source.name,
    scoreKind: source.scoreKind,
    ranked: shown.map((doc, i) => ({
      rank: i + 1,
      id: traceId(doc),
      score: traceScore(doc.metadata.recallScore as number),
    })),
    ...(candidates.length > shown.length ? { omitted: candidates.length - shown.length } : {}),
  };
}

/** The `rerank` run's ranked list when stage-1 order was returned (timeout, fallback): nothing moved. */
function fallbackTrace(documents: readonly DocumentInterface<RetrievedDocumentMetadata>[]): TracedRank[] {
  return documents.slice(0, TRACE_LIMIT).map((doc, k) => ({
    rank: k + 1,
    id: traceId(doc),
    inputRank: doc.metadata.recallRank,
    inputScore: traceScore(doc.metadata.recallScore),
    score: null,
    move: doc.metadata.recallRank - (k + 1),
  }));
}

/** Milliseconds as a trace shows them: to 0.01 ms. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}
