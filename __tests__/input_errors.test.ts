import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError } from "../src/index.js";
import { nonNegativeIntOption, parseArgs } from "../src/cli/args.js";
import { readInputDocuments, readInputs } from "../src/cli/input_documents.js";
import { writeTestDataset } from "./support/dataset.js";
import { looksLikePath, resolveModelSource } from "../src/models/model_source.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-inputs-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const write = (name: string, content: string | Buffer) => {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, content);
  return file;
};

describe("clear errors for bad CLI input", () => {
  test("--chunk-overlap ≥ --chunk-size is a typed error naming both, with a suggestion", async () => {
    const file = write("a.txt", "some text here");
    await expect(readInputDocuments([file], 100, 100)).rejects.toThrow(InvalidArgumentError);
    await expect(readInputDocuments([file], 100, 150)).rejects.toThrow(
      /--chunk-overlap \(150\) must be a whole number from 0 to less than --chunk-size \(100\).*Try --chunk-overlap 10/,
    );
    expect(await readInputDocuments([file], 100, 0)).toHaveLength(1);
  });

  test("a null (or non-object) JSONL line names file and line", async () => {
    const file = write("rows.jsonl", '{"_id":"1","text":"fine"}\n\nnull\n');
    await expect(readInputDocuments([file], 100, 10)).rejects.toThrow(
      /rows\.jsonl:3: expected a JSON object .*got null/,
    );
    const arrays = write("arrays.jsonl", "[1,2]\n");
    await expect(readInputDocuments([arrays], 100, 10)).rejects.toThrow(/arrays\.jsonl:1: .*got an array/);
  });

  test("a binary or non-UTF-8 .txt is skipped with a warning, not indexed as garbage", async () => {
    const good = write("good.md", "Honeybees dance to share where flowers are.");
    const binary = write("image.txt", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0xff]));
    const latin1 = write("latin1.txt", Buffer.from("caf\xe9 cr\xe8me", "latin1"));
    const warnings: string[] = [];
    const docs = await readInputDocuments([good, binary, latin1], 200, 20, { warn: (m) => warnings.push(m) });
    expect(docs.map((d) => d.metadata.source)).toEqual([path.relative(process.cwd(), good)]);
    expect(warnings).toEqual([
      expect.stringMatching(/Skipping .*image\.txt: it holds a NUL byte at offset 4/),
      expect.stringMatching(/Skipping .*latin1\.txt: it is not valid UTF-8/),
    ]);
    await expect(readInputDocuments([binary], 200, 20, { warn: () => undefined })).rejects.toThrow(/hold no text/);
  });

  test("an option followed by another option is missing its value; 0 is a valid overlap", () => {
    expect(() => parseArgs(["--out", "--rebuild"], ["out"], ["rebuild"])).toThrow(
      /--out needs a value; it is followed by the option --rebuild/,
    );
    const args = parseArgs(["--chunk-overlap", "0"], ["chunk-overlap"], []);
    expect(nonNegativeIntOption(args, "chunk-overlap", 100)).toBe(0);
    expect(() =>
      nonNegativeIntOption(parseArgs(["--chunk-overlap=-1"], ["chunk-overlap"], []), "chunk-overlap", 1),
    ).toThrow(/0 or more; got '-1'/);
  });

  test("a model name that is a path and exists nowhere is a ModelLoadError, never a hub download", () => {
    for (const name of ["./models/missing", "../missing", "/nowhere/model", "a/b/c"]) {
      expect(looksLikePath(name)).toBe(true);
      expect(() => resolveModelSource(name, true)).toThrow(ModelLoadError);
      expect(() => resolveModelSource(name, true)).toThrow(/does not exist .*never a hub id/);
    }
    expect(looksLikePath("Xenova/all-MiniLM-L6-v2")).toBe(false);
    expect(resolveModelSource("Xenova/all-MiniLM-L6-v2", true, { offline: false })).toMatchObject({
      localFilesOnly: false,
    });
  });

  test("JSONL text that is an object or a number is an error naming file:line, not a silent drop", async () => {
    const rows = write(
      "mixed.jsonl",
      [
        '{"_id":"a","text":"Honeybees dance."}',
        '{"_id":"b","text":""}',
        '{"_id":"c","text":{"en":"x"}}',
        '{"_id":"d","text":42}',
      ].join("\n"),
    );
    await expect(readInputDocuments([rows], 100, 10)).rejects.toThrow(
      /mixed\.jsonl:3: "text" is object, not a string\. Each record's text must be a string/,
    );
    const numbers = write("numbers.jsonl", '{"_id":"a","text":"fine"}\n{"_id":"d","text":42}\n');
    await expect(readInputDocuments([numbers], 100, 10)).rejects.toThrow(/numbers\.jsonl:2: "text" is number 42/);
  });

  test("a BEIR folder indexes only its corpus.jsonl, never its queries", async () => {
    const beir = path.join(scratch, "beir");
    writeTestDataset(beir);
    const corpus = fs.readFileSync(path.join(beir, "corpus.jsonl"), "utf8").trim().split("\n").length;
    const docs = await readInputDocuments([beir], 1000, 100);
    expect(docs).toHaveLength(corpus);
    expect(new Set(docs.map((d) => path.basename(String(d.metadata.source))))).toEqual(new Set(["corpus.jsonl"]));
  });

  test("symbolic links out of the input folder are not followed (unless asked); a link loop is skipped", async () => {
    const outside = path.join(scratch, "outside");
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, "secret.txt"), "system file contents");
    const docsDir = path.join(scratch, "linked-docs");
    fs.mkdirSync(path.join(docsDir, "sub"), { recursive: true });
    fs.writeFileSync(path.join(docsDir, "a.md"), "Honeybees dance to share where flowers are.");
    fs.writeFileSync(path.join(docsDir, "sub", "b.md"), "Tides follow the moon.");
    fs.symlinkSync(outside, path.join(docsDir, "etc"));
    fs.symlinkSync("..", path.join(docsDir, "sub", "loop"));
    fs.symlinkSync(path.join(docsDir, "sub", "b.md"), path.join(docsDir, "alias.md")); // inside: followed
    const names = (docs: { metadata: Record<string, unknown> }[]) =>
      [...new Set(docs.map((d) => path.basename(String(d.metadata.source))))].sort();
    expect(names(await readInputDocuments([docsDir], 1000, 100))).toEqual(["a.md", "alias.md"]);
    expect(names(await readInputDocuments([docsDir], 1000, 100, { followSymlinks: true }))).toEqual([
      "a.md",
      "alias.md",
      "secret.txt",
    ]);
    const { skipped } = await readInputs([docsDir], 1000, 100);
    expect(skipped).toEqual([
      {
        path: path.join(docsDir, "etc"),
        reason: expect.stringMatching(/symbolic link to .*outside .*--follow-symlinks/),
      },
      { path: path.join(docsDir, "sub", "b.md"), reason: `already read as ${path.join(docsDir, "alias.md")}` },
      { path: path.join(docsDir, "sub", "loop"), reason: `a link loop: it leads back to ${docsDir}` },
    ]);
  });

  test("index folders inside the inputs (our manifest, FAISS or BM25 files) are skipped, not read as documents", async () => {
    const docsDir = path.join(scratch, "docs-with-index");
    for (const [sub, files] of [
      ["idx", ["two-stage.json", "bm25.docstore.jsonl"]],
      ["faiss-only", ["faiss.index", "docstore.json", "notes.md"]],
      ["bm25-only", ["bm25.json", "bm25.docstore.jsonl"]],
    ] as const) {
      fs.mkdirSync(path.join(docsDir, sub), { recursive: true });
      for (const file of files) fs.writeFileSync(path.join(docsDir, sub, file), '{"_id":"x","text":"indexed text"}\n');
    }
    fs.writeFileSync(path.join(docsDir, "a.md"), "Honeybees dance.");
    const docs = await readInputDocuments([docsDir], 1000, 100);
    expect(docs.map((d) => path.basename(String(d.metadata.source)))).toEqual(["a.md"]);
  });
});
