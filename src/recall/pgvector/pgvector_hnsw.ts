import type { PGVectorStore } from "@langchain/community/vectorstores/pgvector";

import { InvalidArgumentError } from "../../errors.js";
import { positiveInteger } from "../../validation.js";
import { checkIdentifier } from "./pgvector_store.js";

/** Options of {@link createHnswIndex}. */
export interface HnswIndexParams {
  /**
   * Graph links per node: more is more accurate and larger.
   * @default 16
   */
  m?: number;
  /**
   * Candidates kept while building: more is a better graph and a slower build.
   * @default 64
   */
  efConstruction?: number;
}

const OPERATOR_CLASS: Record<string, string> = {
  cosine: "vector_cosine_ops",
  innerProduct: "vector_ip_ops",
  euclidean: "vector_l2_ops",
};

/**
 * Creates an HNSW index (approximate nearest neighbours) on a PGVectorStore's vector column, for the store's
 * distance, if it does not exist; returns its name. The column must be typed `vector(dimensions)` (as
 * {@link connectPgvectorStore} creates it). Build it after a bulk load: it is much faster than indexing row by row.
 * Searches then return approximate results, as accurate as `hnsw.ef_search` allows: measure with `evaluate(…,
 * { exactStage1 })`. Unlike `PGVectorStore.createHnswIndex`, errors are thrown, not logged.
 */
export async function createHnswIndex(store: PGVectorStore, params: HnswIndexParams = {}): Promise<string> {
  const m = params.m ?? 16;
  const efConstruction = params.efConstruction ?? 64;
  positiveInteger("m", m);
  positiveInteger("efConstruction", efConstruction);
  if (m < 2 || m > 100 || efConstruction < 2 * m || efConstruction > 1000) {
    throw new InvalidArgumentError(
      `HNSW needs 2 ≤ m ≤ 100 and 2·m ≤ efConstruction ≤ 1000 (pgvector's limits); got m ${m}, efConstruction ` +
        `${efConstruction}.`,
      { argument: "efConstruction" },
    );
  }
  checkIdentifier("tableName", store.tableName);
  checkIdentifier("vectorColumnName", store.vectorColumnName);
  const operatorClass = OPERATOR_CLASS[store.distanceStrategy ?? "cosine"];
  if (!operatorClass) {
    throw new InvalidArgumentError(`Unknown distanceStrategy '${String(store.distanceStrategy)}'.`, {
      argument: "distanceStrategy",
    });
  }
  const name = `${store.tableName}_${store.vectorColumnName}_hnsw_${m}_${efConstruction}`.slice(0, 63);
  await store.pool.query(
    `CREATE INDEX IF NOT EXISTS "${name}" ON ${store.computedTableName} USING hnsw ` +
      `("${store.vectorColumnName}" ${operatorClass}) WITH (m = ${m}, ef_construction = ${efConstruction})`,
  );
  return name;
}
