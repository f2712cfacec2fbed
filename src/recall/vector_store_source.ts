import { Document } from "@langchain/core/documents";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import { InvalidArgumentError } from "../errors.js";
import { filteredSearch, matchesFilter } from "./filtered_search.js";
import { pgvectorConvention } from "./pgvector/pgvector_convention.js";
import type { RecallCandidate, RecallFilter, RecallSource } from "./recall_source.js";
import type { StoreConvention, StoreConventionEntry, StoreScore } from "./store_convention.js";
import { copyDocument } from "../documents/copy_document.js";

export type { StoreConvention, StoreConventionEntry, StoreFilter, StoreScore } from "./store_convention.js";

/**
 * The stores whose conventions are known and tested. Scores of these are reported as cosine similarity (higher is
 * better); any other store's score is passed through as it is (`scoreKind` "store"), and its filter is passed
 * through as the store's own filter type.
 */
export const STORE_CONVENTIONS: Readonly<Record<string, StoreConventionEntry>> = {
  /** This package's FaissVectorStore: cosine similarity; filters applied by the store. */
  two_stage_faiss: { score: "similarity", filter: "native" },
  /** LangChain's FaissStore: squared L2 distance between normalised vectors (= 2 − 2·cosine); ignores filters. */
  faiss: { score: "squaredL2Distance", filter: "none" },
  /** LangChain's MemoryVectorStore: cosine similarity; filter is a predicate. */
  memory: { score: "similarity", filter: "predicate" },
  /**
   * LangChain's PGVectorStore: read from its `distanceStrategy` and `scoreNormalization` (default cosine distance =
   * 1 − cosine); metadata-equality filter translated to SQL, predicates refused.
   */
  pgvector: pgvectorConvention,
};

/** The convention of `store` from {@link STORE_CONVENTIONS}, or undefined for a store not listed there. */
export function storeConvention(store: VectorStoreInterface): StoreConvention | undefined {
  const entry = Object.hasOwn(STORE_CONVENTIONS, store._vectorstoreType())
    ? STORE_CONVENTIONS[store._vectorstoreType()]
    : undefined;
  return typeof entry === "function" ? entry(store) : entry;
}

const UNKNOWN: StoreConvention = { score: "similarity", filter: "native" };

function toCosine(score: number, kind: StoreScore): number {
  switch (kind) {
    case "cosineDistance":
      return 1 - score;
    case "halfCosineSimilarity":
      return 2 * score - 1;
    case "negativeInnerProduct":
      return -score;
    case "squaredL2Distance":
      return 1 - score / 2;
    case "l2Distance":
      return 1 - (score * score) / 2;
    case "inverseL2Similarity": {
      const distance = 1 / score - 1;
      return 1 - (distance * distance) / 2;
    }
    default:
      return score;
  }
}

/** Options of {@link VectorStoreSource}. */
export interface VectorStoreSourceParams {
  /**
   * The store's conventions.
   * @default the store's entry in STORE_CONVENTIONS, else pass-through
   */
  convention?: StoreConvention;
  /**
   * For stores that ignore filters: candidates fetched per wanted result before the window doubles.
   * @default 4
   */
  filterOverFetch?: number;
  /**
   * Name in `explain` and manifests.
   * @default "dense"
   */
  name?: string;
}

/**
 * Stage 1 over any LangChain vector store (this package's FaissVectorStore, LangChain's FaissStore,
 * MemoryVectorStore, PGVectorStore, Qdrant, …): scores are turned into cosine similarity for the stores in
 * {@link STORE_CONVENTIONS}, and filters are applied natively, translated, or over a widening window — never ignored.
 *
 * @example
 * ```ts
 * const source = new VectorStoreSource(await MemoryVectorStore.fromTexts(texts, {}, embeddings));
 * const [{ document, score }] = await source.recall("what causes tides?", 1); // score: cosine, e.g. 0.61
 * ```
 */
export class VectorStoreSource implements RecallSource {
  readonly name: string = "dense";
  readonly scoreKind: string;
  readonly convention: StoreConvention;
  readonly filterOverFetch: number = 4;

  constructor(
    readonly store: VectorStoreInterface,
    params: VectorStoreSourceParams = {},
  ) {
    this.name = params.name ?? this.name;
    this.filterOverFetch = params.filterOverFetch ?? this.filterOverFetch;
    const known = params.convention ? undefined : storeConvention(store);
    this.convention = params.convention ?? known ?? UNKNOWN;
    this.scoreKind = params.convention || known ? "cosine" : "store";
  }

  async recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]> {
    const { score, filter: filterMode } = this.convention;
    // Never ask a store for more than it holds (FaissStore warns, faiss itself would abort).
    const size = storeSize(this.store);
    if (size === 0) return [];
    const cap = (n: number) => (size === undefined ? n : Math.min(n, size));
    let pairs: [Document, number][];
    if (filter !== undefined && filterMode === "none") {
      const vector = await this.store.embeddings.embedQuery(query);
      pairs = await filteredSearch(
        k,
        this.filterOverFetch,
        filter,
        (window) => this.store.similaritySearchVectorWithScore(vector, cap(window)),
        ([doc]) => doc,
      );
    } else {
      pairs = await this.store.similaritySearchWithScore(query, cap(k), this.storeFilter(filter));
    }
    return pairs.slice(0, k).map(([doc, value]) => ({
      document: copyDocument(doc),
      score: toCosine(value, score),
    }));
  }

  /** The filter in the form the store takes. */
  private storeFilter(filter: RecallFilter | undefined): VectorStoreInterface["FilterType"] | undefined {
    if (filter === undefined) return undefined;
    switch (this.convention.filter) {
      case "predicate":
        return typeof filter === "function" ? filter : (doc: Document) => matchesFilter(filter, doc);
      case "object":
        if (typeof filter === "function") {
          throw new InvalidArgumentError(
            `The ${this.store._vectorstoreType()} store filters in its own query language, which a JavaScript ` +
              "predicate cannot be translated to. Pass a metadata object instead (e.g. { topic: 'tides' }).",
            { argument: "filter" },
          );
        }
        return this.convention.translateFilter ? this.convention.translateFilter(filter) : filter;
      default:
        return filter;
    }
  }

  async addDocuments(documents: Document[], options?: { ids?: string[] }): Promise<string[] | void> {
    return this.store.addDocuments(documents, options);
  }

  async getDocuments(ids: readonly string[]): Promise<(Document | undefined)[]> {
    const store = this.store as VectorStoreInterface & { getDocuments?: unknown };
    if (typeof store.getDocuments !== "function") {
      throw new InvalidArgumentError(
        `The ${this.store._vectorstoreType()} store cannot look documents up by id (this package's FaissVectorStore ` +
          "and Bm25Index can). Use search results' documents instead.",
      );
    }
    return (store.getDocuments as (ids: readonly string[]) => Promise<(Document | undefined)[]>).call(store, ids);
  }

  async save(directory: string): Promise<void> {
    const store = this.store as VectorStoreInterface & { save?: unknown };
    if (typeof store.save !== "function") {
      throw new InvalidArgumentError(
        `The ${this.store._vectorstoreType()} store has no save(directory); it persists itself.`,
      );
    }
    await (store.save as (directory: string) => Promise<void>).call(store, directory);
  }
}

/** The number of vectors of a store that exposes it (`size`, or a faiss `index.ntotal()`), else undefined. */
function storeSize(store: VectorStoreInterface): number | undefined {
  const candidate = store as { size?: unknown; index?: { ntotal?: unknown } };
  if (typeof candidate.size === "number") return candidate.size;
  try {
    const ntotal = candidate.index?.ntotal;
    return typeof ntotal === "function" ? (ntotal.call(candidate.index) as number) : undefined;
  } catch {
    return undefined; // FaissStore's `index` getter throws while the store is empty
  }
}
