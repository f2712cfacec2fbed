import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";

import { FaissVectorStore, IndexError, InvalidArgumentError } from "../src/index.js";
import { readDocstore } from "../src/recall/faiss/docstore_file.js";
import { readFlatIndex, writeFlatIndex } from "../src/recall/faiss/flat_index_file.js";
import { NO_EMBEDDINGS, dataFolder, reseal, vectorStore } from "./support/vector_stores.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-safety-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
const fresh = (name: string) => path.join(scratch, `${name}-${++counter}`);

describe("save never destroys what is not ours", () => {
  test("a file, a non-empty folder that is not an index, '.', '' and the working directory are refused untouched", async () => {
    const { store } = await vectorStore(3);
    const file = fresh("file");
    fs.writeFileSync(file, "my notes");
    await expect(store.save(file)).rejects.toThrow(InvalidArgumentError);
    await expect(store.save(file)).rejects.toThrow(new RegExp(`'${file}': it is an existing file`));
    expect(fs.readFileSync(file, "utf8")).toBe("my notes");

    const docs = fresh("docs");
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, "a.md"), "keep me");
    await expect(store.save(docs)).rejects.toThrow(/not empty and is not an index \(it holds a\.md\)/);
    expect(fs.readdirSync(docs)).toEqual(["a.md"]);

    await expect(store.save(".")).rejects.toThrow(/working directory/);
    await expect(store.save("")).rejects.toThrow(/non-empty string/);
    await expect(store.save(process.cwd())).rejects.toThrow(InvalidArgumentError);
    await expect(store.save(undefined as unknown as string)).rejects.toThrow(InvalidArgumentError);
  });

  test("a missing path, an empty folder, our own index and a FaissStore folder are written", async () => {
    const { store } = await vectorStore(3);
    const missing = path.join(fresh("missing"), "nested", "index");
    await store.save(missing);
    const empty = fresh("empty");
    fs.mkdirSync(empty);
    await store.save(empty);
    await store.save(empty); // an index of ours
    expect((await FaissVectorStore.load(empty, NO_EMBEDDINGS)).size).toBe(3);

    const theirs = fresh("faissstore");
    const faissStore = new FaissStore(NO_EMBEDDINGS, {});
    await faissStore.addVectors([[1, 0, 0, 0, 0, 0, 0, 0]], [new Document({ pageContent: "theirs" })]);
    await faissStore.save(theirs);
    await store.save(theirs);
    expect((await FaissVectorStore.load(theirs, NO_EMBEDDINGS)).size).toBe(3);
    // FaissStore still reads our folders (faiss.index + docstore.json at the top level link to the current data).
    expect((await FaissStore.load(theirs, NO_EMBEDDINGS)).index.ntotal()).toBe(3);
  });

  test("the manifest records the index and keeps the caller's fields (the CLI's model names)", async () => {
    const { store } = await vectorStore(4);
    const dir = fresh("manifest");
    const cli = { version: 1, embeddingModel: "e", rerankerModel: "r", lexical: true, documents: 4, createdAt: "t" };
    await store.save(dir, { extraFiles: { "two-stage.json": JSON.stringify(cli), "NOTES.txt": "hello" } });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "two-stage.json"), "utf8"));
    expect(manifest).toMatchObject(cli);
    expect(manifest.index).toMatchObject({ version: 1, kind: "faiss", dim: 8, count: 4, metric: "ip" });
    expect(Object.keys(manifest.index.checksums).sort()).toEqual(["NOTES.txt", "docstore.json", "faiss.index"]);
    expect(manifest.index.checksums["faiss.index"]).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(path.join(dir, "NOTES.txt"), "utf8")).toBe("hello");
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).loadReport).toEqual({
      layout: "manifest",
      verified: true,
      renormalizedRows: 0,
    });
    await expect(store.save(dir, { extraFiles: { "two-stage.json": "[1]" } })).rejects.toThrow(/must be a JSON object/);
    await expect(store.save(dir, { extraFiles: { "../x": "y" } })).rejects.toThrow(InvalidArgumentError);
  });
});

/** Saves a 6-document index, applies `mutate` to its data folder, optionally reseals the checksums, loads. */
async function loadCorrupted(
  mutate: (data: string) => void,
  options: { reseal?: boolean; legacy?: boolean } = {},
): Promise<FaissVectorStore> {
  const { store } = await vectorStore(6);
  const dir = fresh("corrupt");
  await store.save(dir);
  const data = dataFolder(dir);
  if (options.legacy) {
    // FaissStore / 0.1.0 layout: the two files at the top level, no manifest, so no checksums.
    const legacy = fresh("legacy");
    fs.mkdirSync(legacy);
    for (const name of ["faiss.index", "docstore.json"])
      fs.copyFileSync(path.join(data, name), path.join(legacy, name));
    mutate(legacy);
    return FaissVectorStore.load(legacy, NO_EMBEDDINGS);
  }
  mutate(data);
  if (options.reseal) reseal(dir);
  return FaissVectorStore.load(dir, NO_EMBEDDINGS);
}

const patchIndex = (at: number, write: (b: Buffer) => void) => (dir: string) => {
  const file = path.join(dir, "faiss.index");
  const bytes = fs.readFileSync(file);
  write(bytes.subarray(at));
  fs.writeFileSync(file, bytes);
};

const patchDocstore =
  (edit: (entries: unknown[][], mapping: Record<string, string>) => void) =>
  (dir: string): void => {
    const file = path.join(dir, "docstore.json");
    const { entries, mapping } = readDocstore(file);
    edit(entries as unknown[][], mapping as Record<string, string>);
    fs.writeFileSync(file, JSON.stringify([entries, mapping]));
  };

describe("integrity on load", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    [
      "metric field 0 → 1",
      patchIndex(33, (b) => b.writeInt32LE(1)),
      /metric field is 1, but a 'IxFI' index has metric 0/,
    ],
    ["metric field negative", patchIndex(33, (b) => b.writeInt32LE(-1)), /metric field is -1/],
    ["a byte flip in the header placeholders", patchIndex(20, (b) => (b[0] ^= 0x40)), /fixed header fields/],
    ["is_trained flipped", patchIndex(32, (b) => (b[0] = 0)), /is_trained is 0/],
    ["vector count larger than the file", patchIndex(8, (b) => b.writeBigInt64LE(7n)), /header says 7 vectors/],
    ["truncated file", (dir) => fs.truncateSync(path.join(dir, "faiss.index"), 45 + 8 * 4 * 5 + 3), /data bytes/],
    [
      "a vector turned to NaN",
      patchIndex(45 + 8 * 4 * 2, (b) => b.writeFloatLE(NaN)),
      /vector 2 \(document 'doc-2'\) is all zeros or not finite/,
    ],
    [
      "a docstore entry without pageContent",
      patchDocstore((e) => delete (e[1][1] as Record<string, unknown>).pageContent),
      /no pageContent string/,
    ],
    [
      "pageContent a number",
      patchDocstore((e) => ((e[3][1] as Record<string, unknown>).pageContent = 42)),
      /\('doc-3'\) has no pageContent string \(got number 42\)/,
    ],
    [
      "metadata not an object",
      patchDocstore((e) => ((e[0][1] as Record<string, unknown>).metadata = "x")),
      /metadata the string "x", not an object/,
    ],
    [
      "every label mapped to one id",
      patchDocstore((_, m) => Object.keys(m).forEach((k) => (m[k] = "doc-0"))),
      /more than once/,
    ],
    ["a duplicate docstore entry", patchDocstore((e) => (e[5] = e[4])), /'doc-4' appears twice/],
    [
      "an orphan docstore entry",
      patchDocstore((e) => e.push(["extra", { pageContent: "x", metadata: {} }])),
      /'extra' has no vector/,
    ],
    ["a label pointing nowhere", patchDocstore((_, m) => (m["2"] = "ghost")), /maps to the string "ghost"/],
    ["a missing label", patchDocstore((_, m) => delete m["5"]), /maps 5/],
  ];

  test.each(cases)("%s: refused with a named IndexError (checksums resealed)", async (_, mutate, message) => {
    const load = loadCorrupted(mutate, { reseal: true });
    await expect(load).rejects.toThrow(IndexError);
    await expect(loadCorrupted(mutate, { reseal: true })).rejects.toThrow(message);
  });

  test.each(cases)(
    "%s: refused in a folder without manifest (FaissStore / 0.1.0 layout)",
    async (_, mutate, message) => {
      await expect(loadCorrupted(mutate, { legacy: true })).rejects.toThrow(message);
    },
  );

  test.each(cases)("%s: refused as saved (header checks run first, else the checksum)", async (_, mutate, message) => {
    await expect(loadCorrupted(mutate)).rejects.toThrow(new RegExp(`${message.source}|does not match the checksum`));
  });

  test.each([
    [
      "swapped labels (a valid bijection: only the checksum can tell)",
      patchDocstore((_, m) => ([m["0"], m["1"]] = [m["1"], m["0"]])),
    ],
    ["one flipped low bit in a vector", patchIndex(45 + 10, (b) => (b[0] ^= 1))],
    ["a NaN vector", patchIndex(45 + 8 * 4 * 2, (b) => b.writeFloatLE(NaN))],
    ["a changed document text", patchDocstore((e) => ((e[0][1] as Record<string, unknown>).pageContent = "other"))],
  ])("%s: the checksum catches it", async (_, mutate) => {
    await expect(loadCorrupted(mutate)).rejects.toThrow(/docstore.json|faiss.index/);
    await expect(loadCorrupted(mutate)).rejects.toThrow(/does not match the checksum in .*two-stage.json/);
  });

  test("verifyChecksums: false skips the checksum (structure is still checked) and says so", async () => {
    const { store } = await vectorStore(4);
    const dir = fresh("unverified");
    await store.save(dir);
    patchDocstore((_, m) => ([m["0"], m["1"]] = [m["1"], m["0"]]))(dataFolder(dir));
    const loaded = await FaissVectorStore.load(dir, NO_EMBEDDINGS, { verifyChecksums: false });
    expect(loaded.loadReport).toEqual({ layout: "manifest", verified: false, renormalizedRows: 0 });
    patchIndex(33, (b) => b.writeInt32LE(-1))(dataFolder(dir));
    await expect(FaissVectorStore.load(dir, NO_EMBEDDINGS, { verifyChecksums: false })).rejects.toThrow(/metric field/);
  });

  test("an inner-product index over vectors that are not unit length is normalised on load and says so", async () => {
    const { store, flat } = await vectorStore(5);
    const dir = fresh("unnormalised");
    await store.save(dir);
    const legacy = fresh("unnormalised-legacy");
    fs.mkdirSync(legacy);
    fs.copyFileSync(path.join(dataFolder(dir), "docstore.json"), path.join(legacy, "docstore.json"));
    const scaled = flat.map((x, i) => x * (1 + Math.floor(i / 8))); // row r scaled by r + 1
    writeFlatIndex(path.join(legacy, "faiss.index"), scaled, 8, "ip");
    const loaded = await FaissVectorStore.load(legacy, NO_EMBEDDINGS);
    expect(loaded.loadReport).toEqual({ layout: "legacy", verified: false, renormalizedRows: 4 });
    const query = Array.from(flat.subarray(4 * 8, 5 * 8));
    const [[top, score]] = await loaded.similaritySearchVectorWithScore(query, 1);
    expect(top.id).toBe("doc-4"); // a raw dot product would be 5 here; the cosine is 1
    expect(score).toBeCloseTo(1, 5);
    expect(readFlatIndex(path.join(legacy, "faiss.index")).vectors[8]).toBeCloseTo(scaled[8], 6); // file untouched
  });
});

describe("damaged folders can be replaced", () => {
  test("load refuses a damaged manifest; save replaces it and removes the old data folder", async () => {
    const { store } = await vectorStore(3);
    const dir = fresh("damaged-manifest");
    await store.save(dir);
    const oldData = path.basename(dataFolder(dir));
    fs.writeFileSync(path.join(dir, "two-stage.json"), "{ not json");
    await expect(FaissVectorStore.load(dir, NO_EMBEDDINGS)).rejects.toThrow(/two-stage\.json is not valid JSON/);
    await store.save(dir);
    expect((await FaissVectorStore.load(dir, NO_EMBEDDINGS)).size).toBe(3);
    expect(fs.readdirSync(dir)).not.toContain(oldData);
  });
});

describe("metadata is checked when added, so every accepted store can be saved", () => {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  test.each([
    ["a cycle", { nested: cycle }, /documents\[1\]\.metadata\.nested\.self refers back to one of its parents/],
    ["a BigInt", { size: 10n }, /documents\[1\]\.metadata\.size is a bigint/],
    ["a function", { f: () => 1 }, /metadata\.f is a function/],
    ["a symbol", { s: Symbol("x") }, /metadata\.s is a symbol/],
    ["NaN", { list: [1, NaN] }, /metadata\.list\[1\] is NaN/],
    ["Infinity", { "odd key": Infinity }, /metadata\["odd key"\] is Infinity/],
    ["a Map", { m: new Map([["a", 1]]) }, /metadata\.m is a Map/],
  ])("%s is refused with its key path, before anything is added", async (_, metadata, message) => {
    const { store } = await vectorStore(2);
    const docs = [new Document({ pageContent: "ok" }), new Document({ pageContent: "bad", metadata })];
    await expect(
      store.addVectors(
        [
          [1, 0, 0, 0, 0, 0, 0, 0],
          [0, 1, 0, 0, 0, 0, 0, 0],
        ],
        docs,
      ),
    ).rejects.toThrow(message);
    expect(store.size).toBe(2);
    await store.save(fresh("still-saveable"));
  });

  test("Dates and nested plain data are accepted (a Date comes back as its ISO string)", async () => {
    const { store } = await vectorStore(1);
    const when = new Date(0);
    await store.addVectors(
      [[0, 1, 0, 0, 0, 0, 0, 0]],
      [new Document({ pageContent: "d", metadata: { when, deep: { a: [1, "x", null] } } })],
      { ids: ["d"] },
    );
    const dir = fresh("dates");
    await store.save(dir);
    const loaded = await FaissVectorStore.load(dir, NO_EMBEDDINGS);
    const [[doc]] = await loaded.similaritySearchVectorWithScore([0, 1, 0, 0, 0, 0, 0, 0], 1);
    expect(doc.metadata).toEqual({ when: when.toISOString(), deep: { a: [1, "x", null] } });
  });
});

describe("the docstore is streamed: its size is bounded by the disk, not by V8's string limit", () => {
  test("a store holding 600 MB of text saves and loads", async () => {
    const text = "a".repeat(1 << 20); // 600 documents share one 1 MB string in memory
    const { store } = await vectorStore(600, 4, 3, (i) => (i === 599 ? `${text}!` : text));
    const dir = fresh("large");
    await store.save(dir);
    expect(fs.statSync(path.join(dir, "docstore.json")).size).toBeGreaterThan(600 * (1 << 20));
    const loaded = await FaissVectorStore.load(dir, NO_EMBEDDINGS);
    expect(loaded.size).toBe(600);
    expect(loaded.loadReport?.verified).toBe(true);
    const last = (
      await loaded.similaritySearchVectorWithScore(
        Array.from({ length: 4 }, () => 1),
        600,
      )
    ).find(([doc]) => doc.id === "doc-599");
    expect(last?.[0].pageContent.length).toBe((1 << 20) + 1);
  }, 180_000);
});
