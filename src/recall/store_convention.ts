import type { VectorStoreInterface } from "@langchain/core/vectorstores";

// The vocabulary of store conventions, shared by VectorStoreSource and the conventions read off a store's own
// settings (pgvector/pgvector_convention.ts): a leaf file both import, so neither imports the other.

/**
 * What a store's score means, and so how it becomes a cosine (higher is better):
 * - `similarity`: a cosine already (or, from an inner-product store, a·b);
 * - `cosineDistance`: 1 − cosine → 1 − d;
 * - `halfCosineSimilarity`: (1 + cosine) / 2 (PGVectorStore's "similarity" normalisation) → 2s − 1;
 * - `negativeInnerProduct`: −(a·b) (pgvector's `<#>`) → −d;
 * - `squaredL2Distance`: ‖a − b‖² → 1 − d / 2;
 * - `l2Distance`: ‖a − b‖ (pgvector's `<->`) → 1 − d² / 2;
 * - `inverseL2Similarity`: 1 / (1 + ‖a − b‖) → d = 1/s − 1, then as `l2Distance`.
 *
 * The inner-product and L2 conversions equal the cosine for unit-length embeddings (what TransformersEmbeddings
 * returns); for other vectors they still rank exactly as the store does.
 */
export type StoreScore =
  | "similarity"
  | "cosineDistance"
  | "halfCosineSimilarity"
  | "negativeInnerProduct"
  | "squaredL2Distance"
  | "l2Distance"
  | "inverseL2Similarity";

/**
 * How a store takes filters: `native` (both of this package's forms, as given), `predicate` (a function; a metadata
 * object is turned into one), `object` (metadata equality; a predicate cannot be translated and is refused), `none`
 * (the store ignores filters: they are applied here over a widening window).
 */
export type StoreFilter = "native" | "predicate" | "object" | "none";

/** A vector store's conventions, keyed in {@link STORE_CONVENTIONS} by its `_vectorstoreType()`. */
export interface StoreConvention {
  score: StoreScore;
  filter: StoreFilter;
  /**
   * For `object` filters: turns this package's metadata object into the store's filter, refusing (with an
   * InvalidArgumentError) what the store would read differently.
   * @default the object as it is
   */
  translateFilter?: (filter: Record<string, unknown>) => object;
}

/** A store's convention, fixed or read from the store's own settings (e.g. PGVectorStore's `distanceStrategy`). */
export type StoreConventionEntry = StoreConvention | ((store: VectorStoreInterface) => StoreConvention);
