import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  CrossEncoderCompressor,
  FaissVectorStore,
  InvalidArgumentError,
  ScoreCacheFile,
  TransformersEmbeddings,
  TwoStageRetriever,
} from "../src/index.js";
import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { evaluate } from "../src/eval/evaluate.js";
import { cliRunner } from "./support/cli.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { writeTestDataset } from "./support/dataset.js";
import { buildTestModels, countingCrossEncoder } from "./support/models.js";

const models = buildTestModels();
const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-score-cache-"));
afterAll(() => {
  models.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

const QUERY = "how do honeybees communicate with a waggle dance";

describe("ScoreCacheFile", () => {
  test("a second run reads every score back from the file, bit for bit, without calling the model", async () => {
    const file = path.join(root, "round-trip.tsv");
    const first = await ScoreCacheFile.open(file);
    const counting = await countingCrossEncoder(models.crossEncoder);
    const scored = await new CrossEncoderCompressor({ ...counting, scoreCache: first }).score(QUERY, TEST_CORPUS);
    expect(counting.rows()).toBe(TEST_CORPUS.length);
    first.flush();

    const reopened = await ScoreCacheFile.open(file);
    expect(reopened.loaded).toBe(TEST_CORPUS.length);
    const again = await countingCrossEncoder(models.crossEncoder);
    const reranker = new CrossEncoderCompressor({ ...again, scoreCache: reopened });
    const read = await reranker.score(QUERY, TEST_CORPUS);
    expect(again.rows()).toBe(0);
    expect(reranker.lastStats?.cacheHits).toBe(TEST_CORPUS.length);
    expect(read).toEqual(scored); // toEqual on numbers is Object.is: exact
    // A new query, or another maxLength, is a miss and is scored.
    await reranker.score("glaciers carve valleys", TEST_CORPUS.slice(0, 3));
    expect(again.rows()).toBe(3);
    const shorter = await countingCrossEncoder(models.crossEncoder);
    await new CrossEncoderCompressor({ ...shorter, scoreCache: reopened, maxLength: 16 }).score(QUERY, TEST_CORPUS);
    expect(shorter.rows()).toBe(TEST_CORPUS.length);
  });

  test("a rewritten model file misses: the key names the file, its size and its modification time", async () => {
    const dir = path.join(root, "model-copy");
    fs.cpSync(models.crossEncoder, dir, { recursive: true });
    const cache = await ScoreCacheFile.open(path.join(root, "by-file.tsv"));
    const before = new CrossEncoderCompressor({ model: dir, scoreCache: cache });
    await before.score(QUERY, TEST_CORPUS.slice(0, 4));
    await before.dispose();
    const warm = new CrossEncoderCompressor({ model: dir, scoreCache: cache });
    await warm.score(QUERY, TEST_CORPUS.slice(0, 4));
    expect(warm.lastStats?.cacheHits).toBe(4);
    await warm.dispose();
    const onnx = path.join(dir, "onnx", "model_quantized.onnx");
    const later = new Date(fs.statSync(onnx).mtimeMs + 5000);
    fs.utimesSync(onnx, later, later);
    const after = new CrossEncoderCompressor({ model: dir, scoreCache: cache });
    await after.score(QUERY, TEST_CORPUS.slice(0, 4));
    expect(after.lastStats?.cacheHits).toBe(0);
    await after.dispose();
  });

  test("a line cut short by a killed run is skipped; a file that is not a score cache is refused and left alone", async () => {
    const file = path.join(root, "cut.tsv");
    const cache = await ScoreCacheFile.open(file);
    cache.set("a", 0.25);
    cache.set("b", 0.5);
    cache.flush();
    // One whole line, then one cut after its tab, as a killed run leaves it.
    fs.appendFileSync(file, "0123456789abcdef0123456789abcdef\t0.7\nfedcba9876543210fedcba9876543210\t");
    const reopened = await ScoreCacheFile.open(file);
    expect(reopened.get("a")).toBe(0.25);
    expect(reopened.get("b")).toBe(0.5);
    expect(reopened.size).toBe(3);
    reopened.set("c", 1);
    reopened.flush();
    expect((await ScoreCacheFile.open(file)).get("c")).toBe(1);

    const notes = path.join(root, "notes.txt");
    fs.writeFileSync(notes, "my notes\n");
    await expect(ScoreCacheFile.open(notes)).rejects.toThrow(InvalidArgumentError);
    await expect(ScoreCacheFile.open(notes)).rejects.toThrow(/not a two-stage score cache/);
    expect(fs.readFileSync(notes, "utf8")).toBe("my notes\n");
    await expect(ScoreCacheFile.open(path.join(root, "missing-folder", "x.tsv"))).rejects.toThrow(/does not exist/);
  });
});

describe("evaluate with a score cache", () => {
  test("stage 2 is timed on the timing compressor, not on cache reads; the figures equal a run without the cache", async () => {
    const datasetDir = path.join(root, "api-tiny");
    writeTestDataset(datasetDir);
    const dataset = loadBeirDataset(datasetDir);
    const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
    const store = await FaissVectorStore.fromDocuments(
      dataset.corpus.map((d) => ({ pageContent: documentText(d), metadata: { docId: d.id } })),
      embeddings,
    );
    const cache = await ScoreCacheFile.open(path.join(root, "api.tsv"));
    const cached = new CrossEncoderCompressor({ model: models.crossEncoder, scoreCache: cache });
    const retriever = new TwoStageRetriever({ vectorStore: store, compressor: cached, recallK: 8, topK: 3 });
    const params = { recallKs: [4, 8], topK: 3, latencyQueries: 0 };
    const cold = await evaluate(retriever, dataset, params);
    const counting = await countingCrossEncoder(models.crossEncoder);
    const timer = new CrossEncoderCompressor(counting);
    const warm = await evaluate(retriever, dataset, { ...params, latencyQueries: 2, timingCompressor: timer });
    expect(warm.results.map((r) => r.ndcg)).toEqual(cold.results.map((r) => r.ndcg));
    expect(counting.rows()).toBeGreaterThanOrEqual(2 * (4 + 8)); // 2 queries × (recallK 4 + recallK 8), really run
    expect(cache.hits).toBeGreaterThan(0);
    await Promise.all([embeddings.dispose(), cached.dispose(), timer.dispose()]);
  });
});

describe("two-stage eval --score-cache", () => {
  const datasetDir = path.join(root, "tiny");
  writeTestDataset(datasetDir);
  const cli = cliRunner(root);

  test("a second eval reads every score back and reports the same figures; a deeper recallK scores only the new pairs", () => {
    const cache = path.join(root, "eval-scores.tsv");
    const args = ["eval", "--dataset", datasetDir, "--lexical-models", "--top-k", "3", "--score-cache", cache];
    const first = cli(...args, "--recall-k", "5", "--latency-queries", "0", "--json");
    expect(first.status).toBe(0);
    const one = JSON.parse(first.stdout);
    expect(one.scoreCache.hits).toBe(0);
    expect(one.scoreCache.size).toBeGreaterThan(0);
    const second = cli(...args, "--recall-k", "5", "--latency-queries", "0", "--json");
    const two = JSON.parse(second.stdout);
    expect(two.scoreCache.loaded).toBe(one.scoreCache.size);
    expect(two.scoreCache.size).toBe(one.scoreCache.size);
    expect(two.results.map((r: { ndcg: number }) => r.ndcg)).toEqual(one.results.map((r: { ndcg: number }) => r.ndcg));
    const deeper = cli(...args, "--recall-k", "5,10", "--latency-queries", "0");
    expect(deeper.status).toBe(0);
    expect(deeper.stdout).toMatch(/Score cache .*: \d+ scores read back, \d+ new/);
    const [, readBack, fresh] = /: (\d+) scores read back, (\d+) new/.exec(deeper.stdout)!;
    expect(Number(readBack)).toBeGreaterThan(0);
    expect(Number(fresh)).toBeGreaterThan(0);
  });
});
