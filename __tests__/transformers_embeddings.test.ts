import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError, TransformersEmbeddings } from "../src/index.js";
import { pretrained, transformers } from "./support/runtime.js";
import { buildBertModel } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

const models = buildTestModels(TEST_CORPUS);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-embeddings-"));
afterAll(() => {
  models.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("TransformersEmbeddings", () => {
  test("equals transformers.js's own feature-extraction pooling (mean and cls, normalised) on a real BERT graph", async () => {
    const dir = path.join(root, "tiny-bert");
    await buildBertModel(dir, { preset: "tiny", head: "embedding", seed: 9, corpus: TEST_CORPUS }); // fp32 only
    const texts = [TEST_CORPUS[0], "short", TEST_CORPUS[5]];
    const reference = await transformers.pipeline("feature-extraction", ...pretrained(dir, false));
    for (const pooling of ["mean", "cls"] as const) {
      const embeddings = new TransformersEmbeddings({ model: dir, pooling, batchSize: 2, quantized: false });
      const ours = await embeddings.embedDocuments(texts);
      const theirs = (await reference(texts, { pooling, normalize: true })).tolist() as number[][];
      expect(ours).toHaveLength(3);
      ours.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - theirs[i][j])).toBeLessThan(1e-5)));
      const query = await embeddings.embedQuery(texts[1]);
      query.forEach((v, j) => expect(Math.abs(v - ours[1][j])).toBeLessThan(1e-5));
      await embeddings.dispose();
    }
    await reference.dispose();
  });

  test("vectors are unit length and track lexical overlap with the lexical model", async () => {
    const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
    const [q, hit, miss] = await embeddings.embedDocuments([
      "penguins antarctic winter",
      TEST_CORPUS[10],
      TEST_CORPUS[3],
    ]);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    expect(dot(q, q)).toBeCloseTo(1, 5);
    expect(dot(q, hit)).toBeGreaterThan(dot(q, miss) + 0.2);
    await embeddings.dispose();
  });

  test("bad options and offline hub ids fail fast with typed errors (no retry loop)", async () => {
    expect(() => new TransformersEmbeddings({ batchSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new TransformersEmbeddings({ pooling: "max" as "mean" })).toThrow(
      /Unknown pooling 'max'. Expected one of: mean, cls/,
    );
    const offline = new TransformersEmbeddings({ offline: true });
    await expect(offline.embedQuery("q")).rejects.toThrow(ModelLoadError);
  }, 5_000);
});
