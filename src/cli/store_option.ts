import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import { checkIdentifier } from "../recall/pgvector/pgvector_store.js";
import { type ParsedArgs, optionalIntOption, stringOption } from "./args.js";
import { importOptional } from "../optional_import.js";
import { type FolderLock, LOCK_FILE, lockFolder } from "../recall/index_folder/folder_lock.js";

/** How long a command waits for a PGlite data directory another two-stage process holds. */
const PGLITE_LOCK_WAIT_MS = 60_000;

/** Where `--store` points: a Postgres server (with pgvector) or an embedded PGlite data directory. */
export type StoreTarget = { kind: "postgres"; url: string } | { kind: "pglite"; dir: string };

/** The table `index`/`query --store` use without `--table`. */
export const DEFAULT_STORE_TABLE = "two_stage_docs";

const STORE_EXAMPLE = "e.g. --store postgres://user:password@localhost:5432/db or --store pglite:./pgdata";

/** Parses `--store`: a `postgres://` / `postgresql://` URL, or `pglite:<dir>` (an embedded PGlite with pgvector). */
export function parseStoreOption(raw: string): StoreTarget {
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new InvalidArgumentError(`--store '${raw}' is not a valid URL; ${STORE_EXAMPLE}.`, { argument: "--store" });
    }
    return { kind: "postgres", url: raw };
  }
  if (raw.startsWith("pglite:")) {
    const dir = raw.slice("pglite:".length);
    if (dir.trim() === "") {
      throw new InvalidArgumentError(
        "--store pglite: needs a data directory after the colon, e.g. --store pglite:./pgdata (created if missing).",
        { argument: "--store" },
      );
    }
    return { kind: "pglite", dir: dir === "memory://" ? dir : path.resolve(dir) };
  }
  throw new InvalidArgumentError(`--store '${raw}' is neither a postgres:// URL nor pglite:<dir>; ${STORE_EXAMPLE}.`, {
    argument: "--store",
  });
}

/** `--table`, a plain SQL identifier, or the default. */
export function storeTableOption(args: ParsedArgs, fallback: string = DEFAULT_STORE_TABLE): string {
  const table = stringOption(args, "table") ?? fallback;
  checkIdentifier("--table", table);
  return table.toLowerCase(); // unquoted in SQL: Postgres folds it to lower case
}

/** `--ef-search` (1 to 1000, pgvector's limits), or undefined. */
export function efSearchOption(args: ParsedArgs): number | undefined {
  const value = optionalIntOption(args, "ef-search");
  if (value !== undefined && value > 1000) {
    throw new InvalidArgumentError(
      `--ef-search must be at most 1000 (pgvector's limit); got ${value}, e.g. --ef-search 100.`,
      {
        argument: "--ef-search",
      },
    );
  }
  return value;
}

/** Throws unless the options that need `--store` come with it. */
export function checkStoreOnlyOptions(args: ParsedArgs, names: readonly string[]): void {
  if (args.options.has("store")) return;
  const given = names.filter((name) => args.options.has(name));
  if (given.length > 0) {
    throw new InvalidArgumentError(
      `${given.map((name) => `--${name}`).join(", ")} ${given.length === 1 ? "applies" : "apply"} to a Postgres ` +
        "stage 1: add --store postgres://… or " +
        "--store pglite:<dir>.",
      { argument: `--${given[0]}` },
    );
  }
}

/** A Postgres to talk to with node-postgres, and how to let go of it. */
export interface StoreServer {
  connectionString: string;
  /** For messages: the URL without its password, or `PGlite <dir>`. */
  label: string;
  /** Stops the embedded PGlite (a server URL: nothing to stop); calling it again does nothing. */
  stop(): Promise<void>;
}

/**
 * Opens `target`: a URL as it is; `pglite:<dir>` starts PGlite with pgvector on that data directory (created if
 * missing; a non-empty folder that is not a PGlite data directory is refused) in this process, served by
 * pglite-socket on 127.0.0.1 with an ephemeral port for as long as the command runs, holding the directory's lock
 * (one process per PGlite data directory; `command` names the holder in a second process's message).
 */
export async function openStoreServer(
  target: StoreTarget,
  command = "command",
  lockWaitMs = PGLITE_LOCK_WAIT_MS,
): Promise<StoreServer> {
  if (target.kind === "postgres") {
    const url = new URL(target.url);
    if (url.password) url.password = "***";
    return { connectionString: target.url, label: url.toString(), stop: async () => undefined };
  }
  const { dir } = target;
  if (dir !== "memory://" && !fs.existsSync(dir)) {
    // PGlite creates the folder: say why it cannot before it fails with a raw ENOTDIR or EACCES.
    let parent = path.dirname(dir);
    while (!fs.existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    if (!fs.statSync(parent).isDirectory()) {
      throw new InvalidArgumentError(
        `--store pglite:${dir} cannot be created: ${parent} is a file, not a folder. Name a data directory whose ` +
          "parent is a folder (or does not exist yet), e.g. --store pglite:./pgdata.",
        { argument: "--store" },
      );
    }
  }
  if (dir !== "memory://" && fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) {
      throw new InvalidArgumentError(`--store pglite:${dir} is a file, not a data directory. Name a folder.`, {
        argument: "--store",
      });
    }
    const entries = fs.readdirSync(dir).filter((name) => name !== LOCK_FILE);
    if (entries.length > 0 && !fs.existsSync(path.join(dir, "PG_VERSION"))) {
      throw new InvalidArgumentError(
        `--store pglite:${dir} is not empty and is not a PGlite data directory (no PG_VERSION); it is left ` +
          "untouched. Name a new or empty folder.",
        { argument: "--store" },
      );
    }
  }
  // PGlite is a single-process Postgres: two processes on one data directory lose data. The directory's lock is
  // held for the whole command (index, query and eval alike); a second command waits for it, then gives up.
  let lock: FolderLock | undefined;
  const created = dir !== "memory://" && !fs.existsSync(dir);
  if (dir !== "memory://") {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new InvalidArgumentError(
        `--store pglite:${dir} cannot be created (${(error as Error).message}). Name a folder you can write.`,
        { argument: "--store", cause: error },
      );
    }
    lock = await lockFolder(dir, {
      purpose: `two-stage ${command}`,
      waitMs: lockWaitMs,
      onWait: (holder) =>
        process.stderr.write(
          `PGlite ${dir} is in use by ${holder}; waiting up to ${Math.round(lockWaitMs / 1000)} s for it to finish…\n`,
        ),
    });
  }
  let db: import("@electric-sql/pglite").PGlite | undefined;
  let server: import("@electric-sql/pglite-socket").PGLiteSocketServer;
  try {
    const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
      importOptional<typeof import("@electric-sql/pglite")>("@electric-sql/pglite", "--store"),
      importOptional<typeof import("@electric-sql/pglite-pgvector")>("@electric-sql/pglite-pgvector", "--store"),
      importOptional<typeof import("@electric-sql/pglite-socket")>("@electric-sql/pglite-socket", "--store"),
    ]);
    try {
      db = await PGlite.create(dir, { extensions: { vector } });
    } catch (error) {
      throw new InvalidArgumentError(
        `--store pglite:${dir}: PGlite could not open that data directory (${(error as Error).message}). Check that ` +
          "the folder can be created and written, or name another with --store pglite:<dir>.",
        { argument: "--store", cause: error },
      );
    }
    // PGlite is one Postgres backend: the socket server multiplexes the pool's connections onto it.
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 });
    await server.start();
  } catch (error) {
    await db?.close();
    lock?.release();
    // A data directory this call created and could not start leaves nothing behind (it holds only our lock file).
    if (created && fs.readdirSync(dir).every((name) => name === LOCK_FILE)) fs.rmSync(dir, { recursive: true });
    throw error;
  }
  const opened = db;
  const port = Number(server.getServerConn().split(":").pop());
  let stopped: Promise<void> | undefined;
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    label: `PGlite ${dir}`,
    stop: () =>
      (stopped ??= (async () => {
        try {
          await server.stop();
          await opened.close();
        } finally {
          lock?.release();
        }
      })()),
  };
}

/** The HNSW settings `--hnsw` builds with (the issue's acceptance settings; pgvector's defaults). */
export const HNSW = { m: 16, efConstruction: 64 } as const;

/** Refuses `--stage1 bm25|hybrid` with `--store`: Postgres holds a dense stage 1 here. */
export function checkDense(args: ParsedArgs): void {
  const kind = stringOption(args, "stage1");
  if (kind !== undefined && kind !== "dense") {
    throw new InvalidArgumentError(
      `--stage1 ${kind} cannot run on --store: the Postgres table holds a dense (pgvector) stage 1. Drop --stage1, ` +
        `or index ${kind} into a folder with --out <dir>.`,
      { argument: "--stage1" },
    );
  }
}

/** The store argument (main.ts routes here only when `--store` is given). */
export function storeArgument(args: ParsedArgs): string {
  return stringOption(args, "store") ?? "";
}

/** Where a `--store` command works: the parsed `--store` target and the `--table` (else `fallbackTable`). */
export function storeTarget(
  args: ParsedArgs,
  fallbackTable: string = DEFAULT_STORE_TABLE,
): { target: StoreTarget; table: string } {
  return { target: parseStoreOption(storeArgument(args)), table: storeTableOption(args, fallbackTable) };
}
