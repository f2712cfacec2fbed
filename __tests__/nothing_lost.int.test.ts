// Nothing lost, nothing silent: user files inside and beside an index folder, a full disk during a save, two writers
// on one folder, disposed retrievers, and a saved retriever's settings. Cases that could abort the process run in a
// child (support/hostile_child.ts).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { jest } from "@jest/globals";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import {
  Bm25Index,
  CascadeCompressor,
  DEFAULT_CASCADE_KEEP,
  CrossEncoderCompressor,
  DisposedError,
  FaissVectorStore,
  IndexError,
  TwoStageRetriever,
} from "../src/index.js";
import { stagingFolder } from "../src/recall/index_folder/atomic_directory.js";
import { openStoreServer } from "../src/cli/store_option.js";
import { bundleChild } from "./support/child_bundle.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { type TestModels, buildTestModels } from "./support/models.js";
import { NO_EMBEDDINGS, vectorStore } from "./support/vector_stores.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-lost-"));
let childScript = "";
let cleanupChild = () => undefined as void;
let models: TestModels;
beforeAll(() => {
  ({ script: childScript, cleanup: cleanupChild } = bundleChild("hostile_child"));
  models = buildTestModels();
});
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  cleanupChild();
  models.cleanup();
});

let counter = 0;
const fresh = (name: string) => path.join(scratch, `${name}-${++counter}`);

/** Runs the child under bash (for ulimit), returning its exit status, signal and parsed JSON output. */
function runChild(args: string[], shellPrefix = "", env: NodeJS.ProcessEnv = process.env) {
  const command = `${shellPrefix} exec "${process.execPath}" "${childScript}" ${args.map((a) => `"${a}"`).join(" ")}`;
  const result = spawnSync("bash", ["-c", command], { encoding: "utf8", timeout: 60_000, env });
  let output: { ok: boolean; name?: string; message?: string; size?: number } | undefined;
  try {
    output = JSON.parse(result.stdout);
  } catch {
    output = undefined;
  }
  return { status: result.status, signal: result.signal, output, stderr: result.stderr };
}

/** Starts a child that holds `dir`'s writer lock until killed. */
async function holdLock(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [childScript, "hold", dir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("held") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Files a user may keep in an index folder, named like what older versions of this package cleaned up. */
const USER_ENTRIES = [
  "data-2024-12-01/report.csv",
  "data-999999-abc-def0/notes.txt", // the 0.1 data-folder pattern, with a pid that is not running
  ".staging-999999-abcdef/draft.md", // the 0.1 staging pattern
  ".staging-mxbex7o0-0123456789abcdef/kept.txt", // our current pattern, without our owner file
  ".two-stage.json.tmp-999999-abcdef", // the 0.1 temporary-file pattern
  ".faiss.index.tmp-999999-abcdef",
];

function plantUserEntries(dir: string): void {
  for (const entry of USER_ENTRIES) {
    fs.mkdirSync(path.dirname(path.join(dir, entry)), { recursive: true });
    fs.writeFileSync(path.join(dir, entry), `user data: ${entry}`);
  }
}

function expectUserEntries(dir: string): void {
  for (const entry of USER_ENTRIES) {
    expect(fs.readFileSync(path.join(dir, entry), "utf8")).toBe(`user data: ${entry}`);
  }
}

describe("user files inside and beside an index folder are never removed", () => {
  test("FAISS: load and save keep every user entry, whatever its name; only our own marked leftovers go", async () => {
    const dir = fresh("faiss");
    const { store } = await vectorStore(5);
    await store.save(dir);
    plantUserEntries(dir);
    const ours = stagingFolder(dir); // what a killed save of ours leaves: marked with our owner file
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).size).toBe(5);
    expectUserEntries(dir);
    expect(fs.existsSync(ours)).toBe(true); // load removes nothing
    await store.save(dir);
    expectUserEntries(dir);
    expect(fs.existsSync(ours)).toBe(false); // the next save removes what is provably ours
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).size).toBe(5);
  });

  test("BM25 and a hybrid retriever: load and save keep every user entry", async () => {
    const bm25Dir = fresh("bm25");
    const index = await Bm25Index.fromTexts([...TEST_CORPUS], {});
    await index.save(bm25Dir);
    plantUserEntries(bm25Dir);
    await Bm25Index.load(bm25Dir);
    await index.save(bm25Dir);
    expectUserEntries(bm25Dir);

    const hybridDir = fresh("hybrid");
    const retriever = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "hybrid",
        embeddings: HASH_EMBEDDINGS,
        compressor: new PassThrough(),
      },
    );
    await retriever.save(hybridDir);
    plantUserEntries(hybridDir);
    await TwoStageRetriever.load(hybridDir, { embeddings: HASH_EMBEDDINGS, compressor: new PassThrough() });
    await retriever.save(hybridDir);
    expectUserEntries(hybridDir);
  });

  test("the parent folder: siblings named like 0.1 leftovers are touched only when they hold our manifest", async () => {
    const parent = fresh("parent");
    const dir = path.join(parent, "index");
    const { store } = await vectorStore(3);
    await store.save(dir);
    const userTmp = `${dir}.tmp-999999-1700000000000`;
    const userOld = `${dir}.old-999998-1700000000001`;
    for (const sibling of [userTmp, userOld]) {
      fs.mkdirSync(sibling);
      fs.writeFileSync(path.join(sibling, "mine.txt"), "mine");
    }
    await FaissVectorStore.load(dir, NO_EMBEDDINGS);
    await store.save(dir);
    for (const sibling of [userTmp, userOld])
      expect(fs.readFileSync(path.join(sibling, "mine.txt"), "utf8")).toBe("mine");
  });
});

describe("ownership cannot be claimed by a name, a field or a link (found by a hostile pass)", () => {
  test("a caller's manifest field holding data: 'data-…' does not make a user folder ours; part entry names are refused", async () => {
    const dir = fresh("field");
    const retriever = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "bm25",
        compressor: new PassThrough(),
      },
    );
    await retriever.save(dir, { dataset: { data: "data-2024-12-01" } });
    plantUserEntries(dir);
    await retriever.save(dir, { dataset: { data: "data-2024-12-01" } });
    expectUserEntries(dir);
    await expect(retriever.save(dir, { index: { data: "data-2024-12-01" } })).rejects.toThrow(
      /'index' are the index's own/,
    );
    expectUserEntries(dir);
  });

  test("a link named like our data folder is never removed, nor followed; a sibling with any JSON is not ours", async () => {
    const parent = fresh("links");
    const dir = path.join(parent, "index");
    const { store } = await vectorStore(3);
    await store.save(dir);
    const other = path.join(parent, "other");
    fs.mkdirSync(other);
    const theirs = stagingFolder(other);
    const link = path.join(dir, `data-${path.basename(theirs).slice(".staging-".length)}`);
    fs.symlinkSync(theirs, link);
    const sibling = `${dir}.tmp-999999-1700000000000`;
    fs.mkdirSync(sibling);
    fs.writeFileSync(path.join(sibling, "two-stage.json"), "{}");
    fs.writeFileSync(path.join(sibling, "thesis.tex"), "mine");
    await store.save(dir);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(theirs)).toBe(true);
    expect(fs.readFileSync(path.join(sibling, "thesis.tex"), "utf8")).toBe("mine");
  });

  test("a manifest whose saved reranker has no options is refused, not loaded as the default hub model", async () => {
    const dir = fresh("tampered");
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, inferenceWorker: false });
    const built = await TwoStageRetriever.fromTexts([...TEST_CORPUS], {}, { stage1Kind: "bm25", compressor: reranker });
    await built.save(dir);
    const file = path.join(dir, "two-stage.json");
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    manifest.retriever.reranker.params = null;
    fs.writeFileSync(file, JSON.stringify(manifest));
    await expect(TwoStageRetriever.load(dir)).rejects.toThrow(/"retriever" entry is malformed/);
    manifest.retriever.reranker = { kind: "cascade", params: { stages: null } };
    fs.writeFileSync(file, JSON.stringify(manifest));
    await expect(TwoStageRetriever.load(dir)).rejects.toThrow(/"retriever" entry is malformed/);
    await reranker.dispose();
  });
});

describe("a full disk is an error, never an abort; the previous index survives", () => {
  test("save over the file-size limit (ulimit -f): IndexError naming the limit, exit 0, previous index whole", async () => {
    const dir = fresh("full");
    const { store } = await vectorStore(10, 64);
    await store.save(dir);
    // 4,000 × 64 floats = 1 MB of faiss.index; the limit is 256 kB. faiss's own writer aborted here (exit 134).
    const child = runChild(["save", dir, "4000"], "ulimit -f 256;");
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.output).toMatchObject({ ok: false, name: "IndexError" });
    expect(child.output!.message).toMatch(/faiss\.index: a file-size limit was reached \(EFBIG/);
    const loaded = await FaissVectorStore.load(dir, NO_EMBEDDINGS);
    expect([loaded.size, loaded.loadReport?.verified]).toEqual([10, true]);
    expect(fs.readdirSync(dir).filter((name) => name.startsWith(".staging"))).toEqual([]);
  });

  test("addDocuments writes no temporary file: it works with a 1-block file limit and a missing TMPDIR", () => {
    const child = runChild(["add", "5000"], "ulimit -f 1;", {
      ...process.env,
      TMPDIR: path.join(scratch, "no-such-dir"),
    });
    expect(child.signal).toBeNull();
    expect(child.output).toEqual({ ok: true, size: 5000 });
  });
});

describe("one writer per folder, enforced", () => {
  test("a save while another process holds the folder is refused naming it; after kill -9 the lock is gone", async () => {
    const dir = fresh("locked");
    const { store } = await vectorStore(4);
    await store.save(dir);
    const holder = await holdLock(dir);
    try {
      await expect(store.save(dir)).rejects.toThrow(IndexError);
      await expect(store.save(dir)).rejects.toThrow(
        new RegExp(`locked by process ${holder.pid} on .*holding it for a test`),
      );
    } finally {
      await kill9(holder);
    }
    await store.save(dir); // the OS released the lock with the process
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).size).toBe(4);
  });

  test("CLI index --append holds the folder for the whole command: a save during its embedding is refused", async () => {
    const dir = fresh("append");
    const input = path.join(scratch, `append-input-${counter}.jsonl`);
    const many = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ _id: `n${i}`, text: `${TEST_CORPUS[i % TEST_CORPUS.length]} ${i}` }),
    );
    fs.writeFileSync(input, `${many.slice(0, 5).join("\n")}\n`);
    const cli = (...args: string[]) =>
      spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
        env: { ...process.env, XDG_CACHE_HOME: path.join(scratch, "cache") },
        stdio: ["ignore", "pipe", "pipe"],
      });
    const exit = (child: ChildProcess) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = "";
        child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (code) => resolve({ code, stderr }));
      });
    expect((await exit(cli("index", input, "--out", dir, "--lexical-models"))).code).toBe(0);
    fs.writeFileSync(input, `${many.slice(5).join("\n")}\n`);
    const appending = cli("index", input, "--out", dir, "--append", "--lexical-models");
    const done = exit(appending);
    // Wait until the command is past its load (it prints the models it uses), then try to save over it.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (fs.readFileSync(path.join(dir, ".two-stage.lock"), "utf8").includes(`"pid":${appending.pid},`)) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    const other = await Bm25Index.fromTexts(["an update that would be lost"], {});
    await expect(other.save(dir)).rejects.toThrow(/locked by process \d+ .*two-stage index/);
    const { code } = await done;
    expect(code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8")).documents).toBe(3000);
  }, 120_000);

  test("two saves of one folder at once in one process: one is refused, the other is whole", async () => {
    const dir = fresh("twice");
    const { store } = await vectorStore(4);
    const outcomes = await Promise.allSettled([store.save(dir), store.save(dir)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(String(rejected.reason)).toMatch(/locked by process .*one writer per folder/);
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).size).toBe(4);
  });

  test("a PGlite data directory in use by another process is waited for, then refused with a message", async () => {
    const dir = fresh("pglite");
    fs.mkdirSync(dir);
    const holder = await holdLock(dir);
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await expect(openStoreServer({ kind: "pglite", dir }, "index", 300)).rejects.toThrow(
        new RegExp(`${dir} is locked by process ${holder.pid}`),
      );
      expect(stderr.mock.calls.map(([text]) => String(text)).join("")).toMatch(
        /is in use by process \d+.*waiting up to/,
      );
    } finally {
      stderr.mockRestore();
      await kill9(holder);
    }
  });
});

describe("a disposed retriever or store throws, never answers []", () => {
  test("invoke, recall, explain, save and addDocuments on a disposed retriever throw DisposedError", async () => {
    const retriever = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "bm25",
        compressor: new PassThrough(),
      },
    );
    expect((await retriever.invoke("Eiffel Tower")).length).toBeGreaterThan(0);
    await retriever.dispose();
    await expect(retriever.invoke("Eiffel Tower")).rejects.toThrow(DisposedError);
    await expect(retriever.recall("Eiffel Tower")).rejects.toThrow(DisposedError);
    await expect(retriever.explain("Eiffel Tower")).rejects.toThrow(DisposedError);
    await expect(retriever.save(fresh("disposed"))).rejects.toThrow(DisposedError);
    await expect(retriever.addDocuments([new Document({ pageContent: "x" })])).rejects.toThrow(DisposedError);
  });

  test("a retriever over a FAISS store that was disposed throws (the store's size check no longer hides it)", async () => {
    const store = await FaissVectorStore.fromTexts([...TEST_CORPUS], {}, HASH_EMBEDDINGS);
    const retriever = new TwoStageRetriever({ stage1: store, compressor: new PassThrough() });
    expect((await retriever.invoke("Eiffel Tower")).length).toBeGreaterThan(0);
    store.dispose();
    await expect(retriever.invoke("Eiffel Tower")).rejects.toThrow(DisposedError);
    await expect(retriever.recall("Eiffel Tower")).rejects.toThrow(/FaissVectorStore was disposed/);
  });
});

describe("load restores how the retriever was built", () => {
  test("recallK, topK and a cross-encoder with its options come back; options passed to load override them", async () => {
    const dir = fresh("settings");
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, maxLength: 64, inferenceWorker: false });
    const built = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      { lang: "en" },
      {
        stage1Kind: "bm25",
        recallK: 3,
        topK: 1,
        rerankTimeoutMs: 60_000,
        onRerankError: "fallback",
        filter: { lang: "en" },
        compressor: reranker,
      },
    );
    const expected = await built.invoke("When was the Eiffel Tower completed?");
    await built.save(dir);
    const loaded = await TwoStageRetriever.load(dir);
    expect(loaded.filter).toEqual({ lang: "en" });
    expect([loaded.recallK, loaded.topK, loaded.rerankTimeoutMs, loaded.onRerankError]).toEqual([
      3,
      1,
      60_000,
      "fallback",
    ]);
    expect(loaded.compressor).toBeInstanceOf(CrossEncoderCompressor);
    const restored = loaded.compressor as CrossEncoderCompressor;
    expect([restored.model, restored.maxLength, restored.inferenceWorker]).toEqual([models.crossEncoder, 64, false]);
    const got = await loaded.invoke("When was the Eiffel Tower completed?");
    expect(got.map((d) => [d.pageContent, d.metadata.relevanceScore])).toEqual(
      expected.map((d) => [d.pageContent, d.metadata.relevanceScore]),
    );
    expect((await TwoStageRetriever.load(dir, { topK: 2 })).topK).toBe(2);
    await Promise.all([loaded.dispose(), reranker.dispose()]);
  });

  test("a cascade (keep, budget) and a hybrid's dense weight come back", async () => {
    const dir = fresh("cascade");
    const cascade = new CascadeCompressor({
      stages: [
        { reranker: new CrossEncoderCompressor({ model: models.crossEncoder, inferenceWorker: false }), keep: 5 },
        { reranker: new CrossEncoderCompressor({ model: models.crossEncoder2, inferenceWorker: false }) },
      ],
      rerankBudgetMs: 5_000,
    });
    const built = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "hybrid",
        embeddings: HASH_EMBEDDINGS,
        denseWeight: 0.25,
        recallK: 10,
        topK: 2,
        compressor: cascade,
      },
    );
    await built.save(dir);
    const loaded = await TwoStageRetriever.load(dir, { embeddings: HASH_EMBEDDINGS });
    expect(loaded.compressor).toBeInstanceOf(CascadeCompressor);
    const stages = (loaded.compressor as CascadeCompressor).stages;
    expect(stages.map((s) => [s.reranker.model, s.keep])).toEqual([
      [models.crossEncoder, 5],
      [models.crossEncoder2, DEFAULT_CASCADE_KEEP], // the last stage's keep is unused: the default
    ]);
    expect((loaded.compressor as CascadeCompressor).rerankBudgetMs).toBe(5_000);
    expect(loaded.settings().denseWeight).toBe(0.25);
    const query = "photosynthesis sunlight glucose";
    expect((await loaded.invoke(query)).map((d) => d.pageContent)).toEqual(
      (await built.invoke(query)).map((d) => d.pageContent),
    );
    await Promise.all([loaded.dispose(), cascade.dispose()]);
  });

  test("what cannot be saved (a compressor of your own, a filter function) is named when missing at load", async () => {
    const dir = fresh("custom");
    const built = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "bm25",
        compressor: new PassThrough(),
        filter: () => true,
      },
    );
    await built.save(dir);
    await expect(TwoStageRetriever.load(dir, { filter: undefined })).rejects.toThrow(
      /stage 2 was PassThrough, which cannot be saved.*Pass it to load/,
    );
    await expect(TwoStageRetriever.load(dir, { compressor: new PassThrough() })).rejects.toThrow(
      /filter function, which cannot be saved/,
    );
    const loaded = await TwoStageRetriever.load(dir, { compressor: new PassThrough(), filter: undefined });
    expect(loaded.topK).toBe(4);
  });
});

describe("one metadata rule for every stage 1, checked at addDocuments", () => {
  test("BM25, FAISS and hybrid refuse what a save/load round trip would break, naming the key path", async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const bad: [unknown, RegExp][] = [
      [{ nested: { n: 1n } }, /documents\[0\]\.metadata\.nested\.n is a bigint/],
      [cyclic, /documents\[0\]\.metadata\.self refers back/],
      [{ m: new Map([["k", 1]]) }, /documents\[0\]\.metadata\.m is a Map/],
      [{ f: () => 1 }, /documents\[0\]\.metadata\.f is a function/],
      [{ x: NaN }, /documents\[0\]\.metadata\.x is NaN/],
      [{ when: new Date("not a date") }, /documents\[0\]\.metadata\.when is an invalid Date/],
    ];
    const bm25 = await Bm25Index.fromTexts(["seed text"], {});
    const faiss = await FaissVectorStore.fromTexts(["seed text"], {}, HASH_EMBEDDINGS);
    const hybrid = await TwoStageRetriever.fromTexts(
      ["seed text"],
      {},
      {
        stage1Kind: "hybrid",
        embeddings: HASH_EMBEDDINGS,
        compressor: new PassThrough(),
      },
    );
    for (const [metadata, message] of bad) {
      const docs = [new Document({ pageContent: "text", metadata: metadata as Record<string, unknown> })];
      await expect(bm25.addDocuments(docs)).rejects.toThrow(message);
      await expect(faiss.addDocuments(docs)).rejects.toThrow(message);
      await expect(hybrid.addDocuments(docs)).rejects.toThrow(message);
    }
    expect([bm25.size, faiss.size]).toEqual([1, 1]);
  });
});

describe("every part of a saved index is checksummed", () => {
  test("edited BM25 text in a BM25 or hybrid folder is refused at load, naming the file", async () => {
    for (const kind of ["bm25", "hybrid"] as const) {
      const dir = fresh(`sum-${kind}`);
      const retriever = await TwoStageRetriever.fromTexts(
        [...TEST_CORPUS],
        {},
        {
          stage1Kind: kind,
          embeddings: HASH_EMBEDDINGS,
          compressor: new PassThrough(),
        },
      );
      await retriever.save(dir);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8"));
      const docstore = path.join(dir, manifest.bm25.data, "bm25.docstore.jsonl");
      fs.writeFileSync(docstore, fs.readFileSync(docstore, "utf8").replace("Eiffel", "Eiffle"));
      await expect(
        TwoStageRetriever.load(dir, { embeddings: HASH_EMBEDDINGS, compressor: new PassThrough() }),
      ).rejects.toThrow(/bm25\.docstore\.jsonl does not match the checksum/);
    }
  });
});

/** A compressor of the user's own: keeps the order. */
class PassThrough extends BaseDocumentCompressor {
  async compressDocuments(documents: Document[]): Promise<Document[]> {
    return documents.slice(0, 4);
  }
}

/** Deterministic embeddings by character trigram hashing (no model), dimension 32. */
const HASH_EMBEDDINGS: EmbeddingsInterface = {
  embedDocuments: async (texts: string[]) => texts.map(hashVector),
  embedQuery: async (text: string) => hashVector(text),
};

function hashVector(text: string): number[] {
  const vector = new Array<number>(32).fill(0);
  const lower = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= lower.length; i++) {
    let h = 0;
    for (let j = i; j < i + 3; j++) h = (h * 31 + lower.charCodeAt(j)) >>> 0;
    vector[h % 32] += 1;
  }
  return vector;
}
