import type { DistanceStrategy, PGVectorStore } from "@langchain/community/vectorstores/pgvector";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Client, ClientBase, PoolConfig } from "pg";

import { InvalidArgumentError, TwoStageError } from "../../errors.js";
import { positiveInteger } from "../../validation.js";
import { importOptional } from "../../optional_import.js";

/** Options of {@link connectPgvectorStore}. */
export interface PgvectorStoreParams {
  /** A `postgres://user:password@host:port/database` URL. Give this or `poolConfig`. */
  connectionString?: string;
  /** A node-postgres pool configuration (host, port, ssl, …); `connectionString` is added to it when given. */
  poolConfig?: PoolConfig;
  /**
   * The table holding the documents (created if missing, with a `vector(dimensions)` column). A plain SQL
   * identifier: letters, digits and underscores.
   * @default "two_stage_documents"
   */
  tableName?: string;
  /** The embedding dimension: the column is typed `vector(dimensions)`, which an HNSW index needs. */
  dimensions: number;
  /**
   * pgvector's distance: `cosine` (`<=>`), `innerProduct` (`<#>`) or `euclidean` (`<->`). VectorStoreSource reports
   * each as a cosine (exact for cosine; for unit-length embeddings otherwise).
   * @default "cosine"
   */
  distanceStrategy?: DistanceStrategy;
  /**
   * `hnsw.ef_search`, set on every connection of the store's pool: candidates an HNSW index search keeps. Higher is
   * closer to exact search and slower; no effect without an HNSW index (exact search).
   * @default 40 (pgvector's default)
   */
  efSearch?: number;
  /**
   * `hnsw.iterative_scan` (pgvector 0.8 or later): `strict_order` lets a filtered HNSW search keep scanning until
   * `k` rows pass the filter, so a filter does not cut results short. Not set on older pgvector.
   * @default "strict_order"
   */
  iterativeScan?: "strict_order" | "relaxed_order" | "off";
  /**
   * Connections in the store's pool. PGVectorStore keeps one connection for itself, so at least 2.
   * @default 2
   */
  maxConnections?: number;
}

/** A PGVectorStore whose pool this package created, with the settings it applies per connection. */
export interface PgvectorStoreHandle {
  store: PGVectorStore;
  /** The `hnsw.ef_search` every connection uses. */
  efSearch: number;
  /** The installed pgvector version, e.g. "0.8.0". */
  pgvectorVersion: string;
  /** Ends the pool (the table and its rows stay); calling it again does nothing. */
  end(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain SQL identifier (PGVectorStore writes table names into SQL unquoted). */
export function checkIdentifier(argument: string, name: string): void {
  if (!IDENTIFIER.test(name)) {
    throw new InvalidArgumentError(
      `${argument} '${name}' is not a plain SQL identifier. Use letters, digits and underscores (at most 63, not ` +
        "starting with a digit).",
      { argument },
    );
  }
}

/** The numeric parts of a version string ("0.8.0" → [0, 8, 0]), for comparisons. */
export function versionAtLeast(version: string, minimum: number[]): boolean {
  const parts = version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < minimum.length; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i];
  }
  return true;
}

/**
 * Opens LangChain's `PGVectorStore` on a Postgres with pgvector for stage 1: creates the extension and the table if
 * missing (typed `vector(dimensions)`), and sets `hnsw.ef_search` (and `hnsw.iterative_scan` on pgvector ≥ 0.8) on
 * every connection of a pool it creates, so an HNSW index is searched with a known accuracy. Needs the `pg`
 * package. Pass `handle.store` as stage 1; call `handle.end()` when done.
 *
 * @example
 * ```ts
 * const pg = await connectPgvectorStore(embeddings, { connectionString: process.env.DATABASE_URL, dimensions: 384 });
 * await pg.store.addDocuments(docs);
 * await createHnswIndex(pg.store, { dimensions: 384 }); // optional: approximate, fast search
 * const retriever = new TwoStageRetriever({ stage1: pg.store, recallK: 50, topK: 5 });
 * ```
 */
export async function connectPgvectorStore(
  embeddings: EmbeddingsInterface,
  params: PgvectorStoreParams,
): Promise<PgvectorStoreHandle> {
  const tableName = params.tableName ?? "two_stage_documents";
  const efSearch = params.efSearch ?? 40;
  const iterativeScan = params.iterativeScan ?? "strict_order";
  const maxConnections = params.maxConnections ?? 2;
  checkIdentifier("tableName", tableName);
  positiveInteger("dimensions", params.dimensions);
  positiveInteger("efSearch", efSearch);
  positiveInteger("maxConnections", maxConnections);
  if (efSearch > 1000) {
    throw new InvalidArgumentError(`efSearch must be at most 1000 (pgvector's limit); got ${efSearch}.`, {
      argument: "efSearch",
    });
  }
  if (maxConnections < 2) {
    throw new InvalidArgumentError(
      `maxConnections must be at least 2: PGVectorStore holds one connection for itself; got ${maxConnections}.`,
      { argument: "maxConnections" },
    );
  }
  if (!["strict_order", "relaxed_order", "off"].includes(iterativeScan)) {
    throw new InvalidArgumentError(
      `Unknown iterativeScan '${String(iterativeScan)}'. Expected one of: strict_order, relaxed_order, off.`,
      { argument: "iterativeScan" },
    );
  }
  if (!params.connectionString && !params.poolConfig) {
    throw new InvalidArgumentError(
      "connectPgvectorStore needs `connectionString` (postgres://user:password@host:port/database) or `poolConfig`.",
      { argument: "connectionString" },
    );
  }
  const [pg, { PGVectorStore }] = await Promise.all([
    importOptional<typeof import("pg")>("pg", "A Postgres stage 1"),
    import("@langchain/community/vectorstores/pgvector"),
  ]);
  const config: PoolConfig = {
    ...params.poolConfig,
    ...(params.connectionString ? { connectionString: params.connectionString } : {}),
  };
  const pgvectorVersion = await enablePgvector(new pg.default.Client(config));
  const settings = [`SET hnsw.ef_search = ${efSearch}`];
  if (versionAtLeast(pgvectorVersion, [0, 8])) settings.push(`SET hnsw.iterative_scan = ${iterativeScan}`);
  const sessionSql = settings.join("; ");
  // node-postgres runs onConnect before handing a new connection out: every session gets the settings first.
  const pool = new pg.default.Pool({
    ...config,
    max: maxConnections,
    onConnect: async (client: ClientBase) => {
      await client.query(sessionSql);
    },
  });
  const { rows } = await pool.query<{ ef: string }>("SELECT current_setting('hnsw.ef_search') AS ef");
  if (Number(rows[0]?.ef) !== efSearch) {
    await pool.end();
    throw new TwoStageError(
      `hnsw.ef_search is ${rows[0]?.ef} on a new connection, not ${efSearch}: this node-postgres is too old for ` +
        "the pool's onConnect hook. Upgrade pg (8.23 with pg-pool 3.14 has it).",
    );
  }
  const store = await PGVectorStore.initialize(embeddings, {
    pool,
    tableName,
    dimensions: params.dimensions,
    distanceStrategy: params.distanceStrategy ?? "cosine",
  });
  let ended: Promise<void> | undefined;
  return { store, efSearch, pgvectorVersion, end: () => (ended ??= store.end()) };
}

/** Creates the pgvector extension if missing (one short connection) and returns its version. */
async function enablePgvector(client: Client): Promise<string> {
  try {
    await client.connect();
    await client.query("CREATE EXTENSION IF NOT EXISTS vector");
    const { rows } = await client.query<{ extversion: string }>(
      "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
    );
    return rows[0]?.extversion ?? "";
  } catch (error) {
    throw new InvalidArgumentError(
      `Could not connect and enable pgvector: ${(error as Error).message}. Check the connection settings, and ` +
        "that the server has pgvector installed (https://github.com/pgvector/pgvector) and lets this user run " +
        "`CREATE EXTENSION vector` (or has it enabled already).",
      { argument: "connectionString", cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
