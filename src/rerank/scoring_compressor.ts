// The document-level half every text scorer shares (local CrossEncoderCompressor, RemoteReranker): checks at the
// public methods, one score per distinct text, the one ranking rule, callback runs, new Documents out. A subclass
// supplies only `scoreTexts` (checked arguments, distinct texts welcome) and its options.
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import { withRun } from "../callbacks.js";
import { InvalidArgumentError } from "../errors.js";
import { checkDocumentList, checkQuery, checkTextList, describeValue, positiveInteger } from "../validation.js";
import { documentKey, duplicateKeys } from "../documents/document_key.js";
import type { RerankedDocumentMetadata } from "../documents/result_metadata.js";
import { type CandidateRanking, rankedDocuments, rankScoredCandidates } from "./candidate_ranking.js";
import type { ScoreOptions, ScoringCost, StageReranker } from "./relevance_scorer.js";
import { rankingTrace } from "./ranking_trace.js";

/** One result of {@link ScoringCompressor.rerank}. */
export interface RerankResult {
  /** Position of the text in the input. */
  index: number;
  /** Score after activation. */
  relevanceScore: number;
}

/**
 * A LangChain document compressor built on a text scorer: `compressDocuments`, `rerank`, `score`,
 * `scoreDocuments`, `rankScored`, `rankCandidates` — the same for a local and a remote model.
 */
export abstract class ScoringCompressor extends BaseDocumentCompressor implements StageReranker {
  abstract readonly model: string;
  abstract readonly batchSize: number;
  /** How many documents `compressDocuments` returns. */
  abstract readonly topN: number;
  /** Return identical documents once (see `documentKey`). */
  abstract readonly dedupe: boolean;
  /** Drop documents scoring below this. */
  abstract readonly scoreThreshold?: number;
  abstract readonly lastCost?: ScoringCost;

  /** The name of this reranker's run in LangChain callbacks. */
  protected abstract readonly runName: string;

  /** Scores checked texts (a non-empty query, strings); repeats may be scored once. */
  protected abstract scoreTexts(query: string, texts: readonly string[], options: ScoreOptions): Promise<number[]>;

  abstract costUnits(query: string, texts: readonly string[]): Promise<number>;
  abstract savedParams(): object | undefined;
  abstract dispose(): Promise<void>;

  /**
   * Relevance of each text to the query, in input order (after activation). Identical texts are scored once.
   *
   * @example
   * ```ts
   * await reranker.score("capital of France", ["Paris is the capital of France.", "Bananas are yellow."]);
   * // [0.97, 0.0003]
   * ```
   */
  async score(query: string, texts: readonly string[], options: ScoreOptions = {}): Promise<number[]> {
    checkQuery(query);
    checkTextList(texts, "score(query, [text])");
    if (texts.length === 0) return [];
    return this.scoreTexts(query, texts, options);
  }

  /**
   * Scores documents (or texts) against a query and returns the best first as `{ index, relevanceScore }` — the shape
   * and argument order of LangChain's `CohereRerank.rerank(documents, query)` — dropping duplicates (when `dedupe`)
   * and scores below `scoreThreshold`, at most `topN` (default: all).
   *
   * @example
   * ```ts
   * await reranker.rerank(["Bananas are yellow.", "Paris is the capital of France."], "capital of France");
   * // [{ index: 1, relevanceScore: 0.97 }, { index: 0, relevanceScore: 0.0003 }]
   * ```
   */
  async rerank(
    documents: readonly (string | DocumentInterface)[],
    query: string,
    options: { topN?: number } & ScoreOptions = {},
  ): Promise<RerankResult[]> {
    if (typeof documents === "string" && Array.isArray(query)) {
      throw new InvalidArgumentError(
        "rerank() takes (documents, query), like LangChain's compressDocuments and CohereRerank.rerank; " +
          "it was called as (query, documents). Swap the arguments.",
        { argument: "documents" },
      );
    }
    positiveInteger("topN", options.topN);
    if (!Array.isArray(documents)) {
      throw new InvalidArgumentError(
        `documents must be an array of strings or Documents; got ${describeValue(documents)}.`,
        { argument: "documents" },
      );
    }
    const docs = documents.map((doc) => (typeof doc === "string" ? new Document({ pageContent: doc }) : doc));
    const ranking = await this.rankCandidates(docs, query, undefined, undefined, { signal: options.signal });
    return ranking.order
      .slice(0, options.topN ?? ranking.order.length)
      .map((index) => ({ index, relevanceScore: ranking.scores[index] }));
  }

  /**
   * Relevance of each document, in input order; each distinct text is scored once, and a repeat of one document
   * ({@link documentKey}, when `dedupe`) carries the score of its first copy.
   */
  async scoreDocuments(
    documents: readonly DocumentInterface[],
    query: string,
    options: ScoreOptions = {},
  ): Promise<number[]> {
    checkDocumentList(documents);
    if (documents.length === 0) return [];
    checkQuery(query);
    return this.scoreCheckedDocuments(documents, query, options);
  }

  private async scoreCheckedDocuments(
    documents: readonly DocumentInterface[],
    query: string,
    options: ScoreOptions,
  ): Promise<number[]> {
    if (documents.length === 0) return [];
    // A repeat of a document (same key, when dedupe) carries the score of its first copy; each text is scored once.
    const first = new Map<string, number>();
    const source = documents.map((doc, i) => {
      const key = this.dedupe ? documentKey(doc) : `${i}`;
      if (!first.has(key)) first.set(key, i);
      return first.get(key)!;
    });
    const texts = [...new Set(source.map((i) => documents[i].pageContent))];
    const scores = await this.scoreTexts(query, texts, options);
    const byText = new Map(texts.map((text, k) => [text, scores[k]]));
    return source.map((i) => byText.get(documents[i].pageContent)!);
  }

  /**
   * Applies this reranker's `dedupe` and `scoreThreshold` to scored documents: what it keeps and in which order.
   * The one ranking rule behind {@link compressDocuments}, {@link rerank}, `TwoStageRetriever.invoke`, `explain`
   * and `evaluate`.
   */
  rankScored(documents: readonly DocumentInterface[], scores: readonly number[]): CandidateRanking {
    return rankScoredCandidates(scores, this.dedupe ? documents.map(duplicateKeys) : undefined, this.scoreThreshold);
  }

  /**
   * Scores and ranks every candidate ({@link scoreDocuments} then {@link rankScored}), as one run in LangChain
   * callbacks with input count, kept count, output count (`topN` of them, when given) and milliseconds.
   */
  async rankCandidates(
    documents: readonly DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
    topN?: number,
    options: ScoreOptions = {},
  ): Promise<CandidateRanking> {
    checkQuery(query);
    checkDocumentList(documents);
    if (documents.length === 0) return { scores: [], dropped: [], order: [] };
    const { result } = await withRun(
      callbacks,
      this.runName,
      { query, inputCount: documents.length, model: this.model },
      async () => this.rankScored(documents, await this.scoreCheckedDocuments(documents, query, options)),
      (ranking, ms) => ({
        inputCount: documents.length,
        keptCount: ranking.order.length,
        outputCount: Math.min(ranking.order.length, topN ?? ranking.order.length),
        ...rankingTrace(documents, ranking),
        ms,
      }),
    );
    return result;
  }

  /**
   * Reranks LangChain documents: new Documents (the inputs are not modified), best first, at most `topN`, with
   * `metadata.relevanceScore` and 1-based `metadata.rerankRank`; other metadata is kept. The rerank appears as its
   * own run in LangChain callbacks and tracing, with input count, kept count and milliseconds.
   */
  override async compressDocuments(
    documents: DocumentInterface[],
    query: string,
    callbacks?: Callbacks,
  ): Promise<DocumentInterface<RerankedDocumentMetadata>[]> {
    return this.rerankDocuments(documents, query, this.topN, callbacks);
  }

  /** {@link compressDocuments} with an explicit result count. */
  async rerankDocuments(
    documents: DocumentInterface[],
    query: string,
    topN: number,
    callbacks?: Callbacks,
    options: ScoreOptions = {},
  ): Promise<DocumentInterface<RerankedDocumentMetadata>[]> {
    positiveInteger("topN", topN);
    const ranking = await this.rankCandidates(documents, query, callbacks, topN, options);
    // This reranker reads every candidate (no budget), so every document carries its relevanceScore.
    return rankedDocuments(documents, ranking, topN) as Document<RerankedDocumentMetadata>[];
  }
}
