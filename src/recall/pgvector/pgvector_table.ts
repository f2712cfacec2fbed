// The life of a table this package creates in Postgres (pgvector): the manifest it writes into the table's comment
// (the proof that the table is ours: only such a table is ever dropped or replaced), reading it back, dropping,
// swapping a fully loaded staging table in, and counting. Flag names in messages are the CLI's (`--table`,
// `--rebuild`, `--store`), the one caller today.
import type { EmbeddingProfileFacts } from "../../models/types.js";
import { InvalidArgumentError } from "../../errors.js";
import { importOptional } from "../../optional_import.js";
import { checkIdentifier } from "./pgvector_store.js";

/** Marks a table this package created (in its manifest, the table's comment), so only such a table is ever dropped. */
export const STORE_MARKER = "two-stage-retriever";

/** What `index --store` records in the table's comment (JSON), so `query --store` uses the same models. */
export interface StoreManifest {
  createdBy: typeof STORE_MARKER;
  version: 1;
  stage1: "dense";
  embeddingModel: string;
  embeddingProfile?: EmbeddingProfileFacts;
  /** The reranker `index` used (absent in the temporary table of `eval --store`). */
  rerankerModel?: string;
  /** True when the models are the project's lexical test models. */
  lexical?: boolean;
  dim: number;
  documents: number;
  /** The HNSW index built with `--hnsw`, if any. */
  hnsw?: { m: number; efConstruction: number };
  /** `eval` for the temporary table of `eval --store` (dropped when it ends). */
  purpose?: "index" | "eval";
  createdAt: string;
}

/** Whether a table exists, and the manifest this package wrote into its comment (undefined: not ours). */
export interface StoreTableState {
  exists: boolean;
  manifest?: StoreManifest;
}

/** Reads whether `table` exists and, when this package created it, its manifest. */
export async function inspectStoreTable(connectionString: string, table: string): Promise<StoreTableState> {
  return withClient(connectionString, async (client) => {
    const { rows } = await client.query<{ exists: boolean; comment: string | null }>(
      "SELECT to_regclass($1) IS NOT NULL AS exists, obj_description(to_regclass($1), 'pg_class') AS comment",
      [table],
    );
    const { exists, comment } = rows[0];
    return { exists, manifest: parseManifest(comment) };
  });
}

function parseManifest(comment: string | null): StoreManifest | undefined {
  if (!comment) return undefined;
  try {
    const value = JSON.parse(comment) as Partial<StoreManifest>;
    return value?.createdBy === STORE_MARKER ? (value as StoreManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `manifest` as the table's comment (JSON): the marker that this package created it. */
export async function writeStoreManifest(
  connectionString: string,
  table: string,
  manifest: StoreManifest,
): Promise<void> {
  checkIdentifier("--table", table);
  await withClient(connectionString, (client) =>
    client.query(`COMMENT ON TABLE ${table} IS ${client.escapeLiteral(JSON.stringify(manifest))}`),
  );
}

/**
 * Drops `table` if this package created it (its comment carries the marker); a table it did not create is refused
 * with an InvalidArgumentError and left as it is. A missing table is nothing to do.
 */
export async function dropOwnStoreTable(connectionString: string, table: string, flag = "--rebuild"): Promise<void> {
  checkIdentifier("--table", table);
  const state = await inspectStoreTable(connectionString, table);
  if (!state.exists) return;
  if (!state.manifest) {
    throw new InvalidArgumentError(
      `${flag}: table ${table} was not created by two-stage (no two-stage manifest in its comment); it is left ` +
        "untouched. Name another table with --table <name>, or drop it yourself if it is really not needed.",
      { argument: "--table" },
    );
  }
  await withClient(connectionString, (client) => client.query(`DROP TABLE ${table}`));
}

/**
 * Replaces `table` with the fully loaded `staging` table in one transaction (drop + rename): readers see the old
 * rows or the new ones, and a failed load before this point leaves the old table as it was. `table` must be ours.
 */
export async function swapStoreTable(connectionString: string, staging: string, table: string): Promise<void> {
  checkIdentifier("--table", table);
  checkIdentifier("--table", staging);
  const state = await inspectStoreTable(connectionString, table);
  if (state.exists && !state.manifest) {
    throw new InvalidArgumentError(
      `--rebuild: table ${table} was not created by two-stage (no two-stage manifest in its comment); it is left ` +
        "untouched. Name another table with --table <name>.",
      { argument: "--table" },
    );
  }
  await withClient(connectionString, async (client) => {
    await client.query("BEGIN");
    try {
      if (state.exists) await client.query(`DROP TABLE ${table}`);
      await client.query(`ALTER TABLE ${staging} RENAME TO ${table}`);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
  });
}

/** Which of `docIds` the table already holds (in `metadata.docId`), at most `limit` of them. */
export async function storedDocIds(
  connectionString: string,
  table: string,
  docIds: readonly string[],
  limit = 5,
): Promise<string[]> {
  checkIdentifier("--table", table);
  return withClient(connectionString, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `SELECT DISTINCT metadata->>'docId' AS id FROM ${table} WHERE metadata->>'docId' = ANY($1::text[]) LIMIT ${limit}`,
      [docIds],
    );
    return rows.map((row) => row.id);
  });
}

/** The rows of `table`. */
export async function countStoreRows(connectionString: string, table: string): Promise<number> {
  checkIdentifier("--table", table);
  return withClient(connectionString, async (client) => {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0].n);
  });
}

type PgClient = InstanceType<(typeof import("pg"))["default"]["Client"]>;

async function withClient<T>(connectionString: string, use: (client: PgClient) => Promise<T>): Promise<T> {
  const pg = await importOptional<typeof import("pg")>("pg", "--store");
  const client = new pg.default.Client({ connectionString });
  try {
    await client.connect();
  } catch (error) {
    throw new InvalidArgumentError(
      `Could not connect to --store: ${(error as Error).message}. Check the URL (host, port, user, password, ` +
        "database) and that the server is running.",
      { argument: "--store", cause: error },
    );
  }
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
