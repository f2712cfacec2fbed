import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

import pg from "pg";

/** A Postgres with pgvector for the tests: PGlite served on localhost, or the server `DATABASE_URL` names. */
export interface TestPostgres {
  /** `postgres://…` for node-postgres and `connectPgvectorStore`. */
  connectionString: string;
  /** "pglite" or "DATABASE_URL". */
  engine: string;
  /** A new table name unique to this run, dropped by {@link stop}. */
  tableName(prefix?: string): string;
  /** Drops the tables handed out (DATABASE_URL), or stops the PGlite server (in memory: nothing remains). */
  stop(): Promise<void>;
}

const SERVER = path.join(path.dirname(new URL(import.meta.url).pathname), "pglite_server.mjs");

/**
 * Starts PGlite + pgvector behind pglite-socket on 127.0.0.1 (an ephemeral port) in a child process, or, when
 * `DATABASE_URL` is set, uses that server (a Postgres with pgvector) and touches only the uniquely named tables it
 * hands out.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const tables: string[] = [];
  let counter = 0;
  const tableName = (prefix = "t") => {
    const name = `two_stage_test_${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    tables.push(name);
    return name;
  };
  const external = process.env.DATABASE_URL;
  if (external) {
    return {
      connectionString: external,
      engine: "DATABASE_URL",
      tableName,
      async stop() {
        const client = new pg.Client({ connectionString: external });
        await client.connect();
        try {
          for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${table}`);
        } finally {
          await client.end();
        }
      },
    };
  }
  const child = spawn(process.execPath, [SERVER], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await listeningPort(child);
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    engine: "pglite",
    tableName,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`the PGlite server exited (code ${code}) before listening`)));
  });
}
