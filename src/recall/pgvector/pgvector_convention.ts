import type { VectorStoreInterface } from "@langchain/core/vectorstores";

import { InvalidArgumentError } from "../../errors.js";
import { describeValue } from "../../validation.js";
import type { StoreConvention, StoreScore } from "../store_convention.js";

/** The facts of a `PGVectorStore` that decide what its score means (both are public fields of the store). */
interface PgvectorSettings {
  distanceStrategy?: unknown;
  scoreNormalization?: unknown;
}

/**
 * What LangChain's `PGVectorStore` reports as a score, by `distanceStrategy` and `scoreNormalization`:
 * `cosine` → `<=>` = 1 − cosine (or (2 − d) / 2 = (1 + cosine) / 2 as "similarity"); `innerProduct` → `<#>` =
 * −(a·b) (or a·b); `euclidean` → `<->` = ‖a − b‖ (or 1 / (1 + ‖a − b‖)).
 */
const PGVECTOR_SCORES: Record<string, Record<string, StoreScore>> = {
  cosine: { distance: "cosineDistance", similarity: "halfCosineSimilarity" },
  innerProduct: { distance: "negativeInnerProduct", similarity: "similarity" },
  euclidean: { distance: "l2Distance", similarity: "inverseL2Similarity" },
};

/**
 * The convention of one `PGVectorStore`: its score read from the store's own `distanceStrategy` and
 * `scoreNormalization` (so an inner-product or euclidean store is converted too), and a metadata-equality filter
 * checked by {@link pgvectorFilter}.
 */
export function pgvectorConvention(store: VectorStoreInterface): StoreConvention {
  const { distanceStrategy = "cosine", scoreNormalization = "distance" } = store as PgvectorSettings;
  const score = PGVECTOR_SCORES[String(distanceStrategy)]?.[String(scoreNormalization)];
  if (score === undefined) {
    throw new InvalidArgumentError(
      `Unknown PGVectorStore score: distanceStrategy ${describeValue(distanceStrategy)} with scoreNormalization ` +
        `${describeValue(scoreNormalization)}. Expected distanceStrategy cosine, innerProduct or euclidean and ` +
        "scoreNormalization distance or similarity; or pass `convention` to VectorStoreSource.",
      { argument: "store.distanceStrategy" },
    );
  }
  return { score, filter: "object", translateFilter: pgvectorFilter };
}

/**
 * This package's metadata filter (fields that must equal the given values) as a `PGVectorStore` filter, which
 * compares `metadata->>'field' = value` in SQL. Only what SQL compares the same way is passed: strings, finite
 * numbers and booleans (compared as their text, so `{ n: 14 }` also matches a string "14"). Objects (PGVectorStore
 * reads them as operators such as `{ in: [...] }`), arrays, null and undefined, and field names with a quote (the
 * store writes names into the SQL text), are refused rather than given another meaning.
 */
export function pgvectorFilter(filter: Record<string, unknown>): Record<string, string | number | boolean> {
  const translated: Record<string, string | number | boolean> = {};
  for (const [field, value] of Object.entries(filter)) {
    if (field.includes("'")) {
      throw new InvalidArgumentError(
        `PGVectorStore filter field ${JSON.stringify(field)} contains a quote, which the store would write into ` +
          "its SQL unescaped. Rename the metadata field.",
        { argument: "filter" },
      );
    }
    const scalar =
      typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!scalar) {
      throw new InvalidArgumentError(
        `PGVectorStore filter field '${field}' must equal a string, finite number or boolean; got ` +
          `${describeValue(value)}. For PGVectorStore's own operators ({ in: [...] }, { gte: 3 }, …) pass ` +
          "VectorStoreSource a convention with filter 'native'.",
        { argument: "filter" },
      );
    }
    translated[field] = value as string | number | boolean;
  }
  return translated;
}
