import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import pg from "pg";

import { writeTestDataset } from "./support/dataset.js";
import { type TestPostgres, startPostgres } from "./support/postgres.js";
import { cliRunner } from "./support/cli.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-cli-store-"));
const datasetDir = path.join(root, "tiny");
writeTestDataset(datasetDir);
const corpus = path.join(datasetDir, "corpus.jsonl");

let db: TestPostgres;

beforeAll(async () => {
  db = await startPostgres();
}, 60_000);

afterAll(async () => {
  await db?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI from source as a child process, with its caches inside the test folder. */
const cli = cliRunner(root);

async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.connectionString });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const topDoc = (stdout: string) =>
  JSON.parse(stdout).candidates.find((c: { rerankRank: number }) => c.rerankRank === 1).docId;

describe("two-stage CLI with --store (Postgres + pgvector)", () => {
  test("index --store writes a table with its manifest; query --store answers from it with the recorded models", () => {
    const table = db.tableName("cli");
    const url = db.connectionString;
    const built = cli("index", corpus, "--store", url, "--table", table, "--lexical-models", "--json");
    expect(built.stderr).toContain("embedding");
    expect(built.status).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ table, added: 24, documents: 24, dim: 384, stage1: "dense" });
    const again = cli("index", corpus, "--store", url, "--table", table, "--lexical-models");
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already holds an index. Pass --append to add to it or --rebuild to replace it.");
    // --rebuild loads a new table and swaps it in: same name, fresh rows, no staging table left behind.
    const rebuilt = cli("index", corpus, "--store", url, "--table", table, "--rebuild", "--lexical-models", "--json");
    expect(rebuilt.status).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ table, documents: 24 });

    const asked = cli(
      "query",
      "--store",
      url,
      "--table",
      table,
      "waggle dance of honeybees",
      "--recall-k",
      "5",
      "--top-k",
      "2",
      "--json",
    );
    expect(asked.status).toBe(0);
    expect(asked.stderr).toContain(`stage 1 store: table ${table}`);
    expect(asked.stderr).toContain("LEXICAL TEST MODEL"); // the models recorded at index time
    const out = JSON.parse(asked.stdout);
    expect(out.candidates).toHaveLength(5);
    expect(topDoc(asked.stdout)).toBe("doc13");
    expect(out.candidates[0].recallScore).toBeGreaterThan(out.candidates[4].recallScore); // cosine, higher is better

    const table2 = cli(
      "query",
      "--store",
      url,
      "--table",
      table,
      "Gutenberg printing press",
      "--recall-k",
      "6",
      "--top-k",
      "3",
    );
    expect(table2.status).toBe(0);
    expect(table2.stdout).toMatch(/rank\s+stage 1 → 2\s+cosine\s+relevance\s+text/);
    expect(table2.stdout).toContain("printing press of Gutenberg");

    fs.writeFileSync(path.join(root, "notes.md"), "# Notes\n\nEspresso needs finely ground coffee.\n");
    const appended = cli("index", path.join(root, "notes.md"), "--store", url, "--table", table, "--append", "--json");
    expect(appended.status).toBe(0);
    expect(JSON.parse(appended.stdout)).toMatchObject({ added: 1, documents: 25 });
    const twice = cli("index", corpus, "--store", url, "--table", table, "--append");
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain("already holds document ids 'doc");
    const coffee = cli(
      "query",
      "--store",
      url,
      "--table",
      table,
      "espresso coffee",
      "--recall-k",
      "3",
      "--top-k",
      "1",
      "--json",
    );
    expect(coffee.status).toBe(0);
    expect(JSON.parse(coffee.stdout).candidates[0].text).toContain("Espresso");
  });

  test("eval --store --hnsw reports ANN recall against exact FAISS search, and drops its table", async () => {
    const table = db.tableName("eval");
    const run = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--store",
      db.connectionString,
      "--table",
      table,
      "--hnsw",
      "--ef-search",
      "100",
      "--lexical-models",
      "--recall-k",
      "2,5,24",
      "--top-k",
      "3",
      "--json",
    );
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ table, efSearch: 100, hnsw: { m: 16, efConstruction: 64 }, stage1: "dense" });
    expect(report.results.map((r: { recallK: number }) => r.recallK)).toEqual([2, 5, 24]);
    for (const r of report.results) {
      expect(r.annRecall).toBeGreaterThanOrEqual(0);
      expect(r.annRecall).toBeLessThanOrEqual(1);
    }
    expect(report.results[2].recall).toBe(1);
    expect(await sql("SELECT 1 FROM pg_class WHERE relname = $1", [table])).toHaveLength(0);

    const plain = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--store",
      db.connectionString,
      "--hnsw",
      "--lexical-models",
      "--recall-k",
      "2,24",
      "--top-k",
      "3",
    );
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/Recall@recallK\s+ANN recall\s+stage1/);
    const exact = cli(
      "eval",
      "--dataset",
      datasetDir,
      "--store",
      db.connectionString,
      "--lexical-models",
      "--recall-k",
      "2,24",
      "--top-k",
      "3",
      "--json",
    );
    expect(exact.status).toBe(0);
    expect(JSON.parse(exact.stdout).results[0].annRecall).toBeUndefined(); // exact search: nothing to measure
  });

  test("--rebuild and eval refuse a table two-stage did not create, and leave it untouched", async () => {
    const table = db.tableName("foreign");
    await sql(`CREATE TABLE ${table} (id int, note text)`);
    await sql(`INSERT INTO ${table} VALUES (1, 'keep me')`);
    const url = db.connectionString;
    const rebuild = cli("index", corpus, "--store", url, "--table", table, "--rebuild", "--lexical-models");
    expect(rebuild.status).toBe(1);
    expect(rebuild.stderr).toContain(`was not created by two-stage`);
    expect(rebuild.stderr).not.toContain("    at ");
    const plain = cli("index", corpus, "--store", url, "--table", table, "--lexical-models");
    expect(plain.status).toBe(1);
    const evaluated = cli("eval", "--dataset", datasetDir, "--store", url, "--table", table, "--lexical-models");
    expect(evaluated.status).toBe(1);
    expect(evaluated.stderr).toContain(`table ${table}`);
    expect(evaluated.stderr).toContain("exists");
    const query = cli("query", "--store", url, "--table", table, "honeybees");
    expect(query.status).toBe(1);
    expect(query.stderr).toContain("was not created by two-stage index");
    expect(await sql(`SELECT note FROM ${table}`)).toEqual([{ note: "keep me" }]);
  });

  test("--store pglite:<dir> runs an embedded PGlite with pgvector: index with --hnsw, then query", () => {
    const dir = path.join(root, "pgdata");
    const built = cli("index", corpus, "--store", `pglite:${dir}`, "--hnsw", "--lexical-models", "--json");
    expect(built.status).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ table: "two_stage_docs", documents: 24, hnsw: { m: 16 } });
    expect(fs.existsSync(path.join(dir, "PG_VERSION"))).toBe(true);
    const asked = cli(
      "query",
      "--store",
      `pglite:${dir}`,
      "waggle dance of honeybees",
      "--recall-k",
      "5",
      "--top-k",
      "2",
      "--ef-search",
      "64",
      "--json",
    );
    expect(asked.status).toBe(0);
    expect(asked.stderr).toContain("HNSW index, ef_search 64");
    expect(JSON.parse(asked.stdout).efSearch).toBe(64);
    expect(topDoc(asked.stdout)).toBe("doc13");
  });

  test("bad --store values and misplaced store options are refused with the flag and an example", () => {
    const notPg = path.join(root, "my-docs");
    fs.mkdirSync(notPg, { recursive: true });
    fs.writeFileSync(path.join(notPg, "a.md"), "mine");
    const cases: [string[], string][] = [
      [
        ["query", "--store", "mysql://x", "q"],
        "--store 'mysql://x' is neither a postgres:// URL nor pglite:<dir>; e.g. --store postgres://",
      ],
      [["query", "--store", "pglite:", "q"], "--store pglite: needs a data directory"],
      [["query", "--store", `pglite:${notPg}`, "q"], "is not empty and is not a PGlite data directory"],
      [
        ["query", "--store", db.connectionString, "--table", "bad-name", "q"],
        "--table 'bad-name' is not a plain SQL identifier",
      ],
      [["query", "--store", db.connectionString, "--ef-search", "5000", "q"], "--ef-search must be at most 1000"],
      [["index", corpus, "--store", db.connectionString, "--stage1", "bm25"], "--stage1 bm25 cannot run on --store"],
      [["index", corpus, "--store", db.connectionString, "--out", path.join(root, "x")], "not both"],
      [
        ["query", path.join(root, "x"), "q", "--ef-search", "40"],
        "--ef-search applies to a Postgres stage 1: add --store",
      ],
      [["eval", "--dataset", datasetDir, "--hnsw"], "--hnsw applies to a Postgres stage 1"],
    ];
    for (const [args, message] of cases) {
      const { status, stderr } = cli(...args);
      expect(status).toBe(1);
      expect(stderr).toContain(message);
      expect(stderr).not.toContain("    at ");
    }
    expect(fs.readdirSync(notPg)).toEqual(["a.md"]);
    expect(cli("query", "--help").stdout).toContain("--store <url|pglite:dir>");
  });
});
