import type { PGVectorStore } from "@langchain/community/vectorstores/pgvector";
import type { DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "../../errors.js";
import { positiveInteger } from "../../validation.js";
import { checkIdentifier } from "./pgvector_store.js";

/** Options of {@link bulkInsertPgvector}. */
export interface BulkInsertParams {
  /**
   * Rows per INSERT statement. Each statement sends at most four array parameters whatever its size (PGVectorStore
   * sends three or four parameters per row). 500 loaded fastest on PGlite of 250, 500 and 2000 (random vectors).
   * @default 500
   */
  batchSize?: number;
  /** Row ids (uuids), one per vector; the database generates them when absent. */
  ids?: string[];
}

/**
 * Loads vectors and documents into a PGVectorStore's table all or nothing: one transaction (`addVectors` commits
 * each 500-row INSERT on its own, so a failure leaves part of the load behind), and per batch one
 * `INSERT … SELECT FROM unnest($1::text[], $2::jsonb[], $3::vector[], $4::uuid[])` whose parameters are arrays, so
 * the statement and its parameter count do not grow with the batch. Same rows as `addVectors` (text without NUL
 * characters, metadata as jsonb, the vector). Not faster on PGlite (measured on scifact: 399 vs 428 docs/s, the
 * engine's inserts dominate). Returns the rows inserted. Stores with a collection table are refused.
 */
export async function bulkInsertPgvector(
  store: PGVectorStore,
  vectors: number[][],
  documents: DocumentInterface[],
  params: BulkInsertParams = {},
): Promise<number> {
  const batchSize = params.batchSize ?? 500;
  positiveInteger("batchSize", batchSize);
  if (vectors.length !== documents.length || (params.ids && params.ids.length !== vectors.length)) {
    throw new InvalidArgumentError(
      `bulkInsertPgvector needs one document${params.ids ? " and one id" : ""} per vector; got ${vectors.length} ` +
        `vectors, ${documents.length} documents${params.ids ? `, ${params.ids.length} ids` : ""}.`,
      { argument: "documents" },
    );
  }
  if (store.collectionTableName) {
    throw new InvalidArgumentError(
      "bulkInsertPgvector writes plain tables; this PGVectorStore uses a collection table. Use store.addVectors.",
      { argument: "store" },
    );
  }
  for (const [argument, name] of [
    ["tableName", store.tableName],
    ["contentColumnName", store.contentColumnName],
    ["metadataColumnName", store.metadataColumnName],
    ["vectorColumnName", store.vectorColumnName],
    ["idColumnName", store.idColumnName],
  ]) {
    checkIdentifier(argument, name);
  }
  const columns = [store.contentColumnName, store.metadataColumnName, store.vectorColumnName];
  const types = ["text[]", "jsonb[]", "vector[]"];
  if (params.ids) {
    columns.push(store.idColumnName);
    types.push("uuid[]");
  }
  const sql =
    `INSERT INTO ${store.computedTableName} (${columns.map((c) => `"${c}"`).join(", ")}) ` +
    `SELECT * FROM unnest(${types.map((type, i) => `$${i + 1}::${type}`).join(", ")})`;
  const client = await store.pool.connect();
  try {
    await client.query("BEGIN");
    for (let start = 0; start < vectors.length; start += batchSize) {
      const end = Math.min(start + batchSize, vectors.length);
      const texts: string[] = [];
      const metadata: string[] = [];
      const embedded: string[] = [];
      for (let i = start; i < end; i++) {
        texts.push(documents[i].pageContent.replace(/\0/g, ""));
        metadata.push(JSON.stringify(documents[i].metadata ?? {}));
        embedded.push(`[${vectors[i].join(",")}]`);
      }
      const values: unknown[] = [texts, metadata, embedded];
      if (params.ids) values.push(params.ids.slice(start, end));
      await client.query(sql, values);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return vectors.length;
}
