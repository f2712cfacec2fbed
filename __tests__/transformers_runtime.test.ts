import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor, InvalidArgumentError, TransformersEmbeddings } from "../src/index.js";
import {
  TRANSFORMERS_RUNTIMES,
  TRANSFORMERS_RUNTIME_ENV,
  type TransformersRuntimeName,
  resolveRuntimeName,
  transformersRuntime,
} from "../src/models/transformers_runtime.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { cosine } from "./support/vectors.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-runtimes-"));
const crossEncoder = path.join(root, "ce");
const biEncoder = path.join(root, "bi");
buildLexicalCrossEncoder(crossEncoder, { corpus: TEST_CORPUS });
buildLexicalBiEncoder(biEncoder, { corpus: TEST_CORPUS });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const both = (name: TransformersRuntimeName) => name === "@xenova/transformers" || name === "@huggingface/transformers";
const only = (installed: TransformersRuntimeName) => (name: TransformersRuntimeName) => name === installed;

describe("choosing the transformers.js runtime", () => {
  test("an option wins, then the environment variable; auto prefers @xenova/transformers, the dependency", () => {
    expect(resolveRuntimeName("@huggingface/transformers", {}, both)).toEqual({
      name: "@huggingface/transformers",
      chosenBy: "option: @huggingface/transformers",
    });
    const env = { [TRANSFORMERS_RUNTIME_ENV]: "@huggingface/transformers" };
    expect(resolveRuntimeName(undefined, env, both).name).toBe("@huggingface/transformers");
    expect(resolveRuntimeName("@xenova/transformers", env, both).name).toBe("@xenova/transformers");
    expect(resolveRuntimeName(undefined, {}, both)).toEqual({
      name: "@xenova/transformers",
      chosenBy: "default: auto",
    });
    expect(resolveRuntimeName("auto", env, both).name).toBe("@xenova/transformers");
  });

  test("auto takes @huggingface/transformers when only that one is installed, and says so", () => {
    expect(resolveRuntimeName(undefined, {}, only("@huggingface/transformers"))).toEqual({
      name: "@huggingface/transformers",
      chosenBy: "default: auto (@xenova/transformers is not installed)",
    });
    expect(resolveRuntimeName(undefined, {}, only("@xenova/transformers")).name).toBe("@xenova/transformers");
  });

  test("an unknown runtime is refused by name, from the option and from the environment", async () => {
    expect(() => resolveRuntimeName("onnxruntime" as never, {}, both)).toThrow(InvalidArgumentError);
    expect(() => resolveRuntimeName("onnxruntime" as never, {}, both)).toThrow(
      /transformersRuntime is 'onnxruntime'\. Expected one of: auto, @xenova\/transformers, @huggingface\/transformers/,
    );
    expect(() => resolveRuntimeName(undefined, { [TRANSFORMERS_RUNTIME_ENV]: "xenova" }, both)).toThrow(
      /\$TWO_STAGE_TRANSFORMERS_RUNTIME is 'xenova'/,
    );
    await expect(
      new CrossEncoderCompressor({ model: crossEncoder, transformersRuntime: "tfjs" as never }).score("q", ["d"]),
    ).rejects.toThrow(InvalidArgumentError);
  });

  test("each runtime loads once per process and names its version and ONNX Runtime", async () => {
    for (const name of TRANSFORMERS_RUNTIMES) {
      const runtime = await transformersRuntime(name);
      expect(await transformersRuntime(name)).toBe(runtime);
      expect(runtime.name).toBe(name);
      expect(runtime.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(runtime.onnxRuntimeVersion).toMatch(/^1\.\d+\.\d+/);
    }
    expect((await transformersRuntime("@xenova/transformers")).onnxRuntimeVersion).toMatch(/^1\.14\./);
  });
});

describe("the same models on both runtimes (the project's fp32 test models)", () => {
  test("tokenizers give the same ids, alone and in pairs", async () => {
    const [xenova, hf] = await Promise.all(
      TRANSFORMERS_RUNTIMES.map(async (name) => {
        const runtime = await transformersRuntime(name);
        return runtime.loadTokenizer(
          { id: crossEncoder, dir: crossEncoder },
          { quantized: true, localFilesOnly: true },
        );
      }),
    );
    for (const text of TEST_CORPUS.slice(0, 6)) {
      expect(hf.encode(text, null, { add_special_tokens: false })).toEqual(
        xenova.encode(text, null, { add_special_tokens: false }),
      );
      expect(hf.encode(text, "a second text")).toEqual(xenova.encode(text, "a second text"));
    }
    expect(hf.pad_token_id).toBe(xenova.pad_token_id);
  });

  test("reranker scores agree within 1e-5 and embeddings within cosine 0.99999", async () => {
    const query = "carbon dioxide oxygen climate glucose";
    const scores: number[][] = [];
    const vectors: number[][][] = [];
    for (const transformersRuntime of TRANSFORMERS_RUNTIMES) {
      for (const inferenceWorker of [false, true]) {
        const reranker = new CrossEncoderCompressor({ model: crossEncoder, transformersRuntime, inferenceWorker });
        scores.push(await reranker.score(query, TEST_CORPUS));
        await reranker.dispose();
      }
      const embeddings = new TransformersEmbeddings({ model: biEncoder, transformersRuntime });
      vectors.push(await embeddings.embedDocuments([...TEST_CORPUS]));
      await embeddings.dispose();
    }
    for (const other of scores.slice(1)) {
      other.forEach((score, i) => expect(Math.abs(score - scores[0][i])).toBeLessThan(1e-5));
    }
    expect(new Set(scores[0].map((s) => s.toFixed(3))).size).toBeGreaterThan(3); // real, differing scores
    vectors[1].forEach((vector, i) => expect(cosine(vector, vectors[0][i])).toBeGreaterThan(0.99999));
  });
});
