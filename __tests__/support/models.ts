import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { CrossEncoderSequenceModel, CrossEncoderTokenizer } from "../../src/models/cross_encoder_model.js";
import type { RuntimeTensor } from "../../src/models/types.js";
import { local, offline, runtime } from "./runtime.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../../src/testing/index.js";
import { TEST_CORPUS } from "./corpus.js";

/** The project's lexical models over the test corpus, built once per test file into a temporary folder. */
export interface TestModels {
  root: string;
  crossEncoder: string;
  crossEncoder2: string;
  biEncoder: string;
  cleanup(): void;
}

export function buildTestModels(corpus: readonly string[] = TEST_CORPUS): TestModels {
  runtime.env.allowRemoteModels = false;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-models-"));
  const models = {
    root,
    crossEncoder: path.join(root, "cross-encoder"),
    crossEncoder2: path.join(root, "cross-encoder-2"),
    biEncoder: path.join(root, "bi-encoder"),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
  buildLexicalCrossEncoder(models.crossEncoder, { corpus });
  buildLexicalCrossEncoder(models.crossEncoder2, { corpus, numLabels: 2 });
  buildLexicalBiEncoder(models.biEncoder, { corpus });
  return models;
}

/** A real tokenizer + model, with the model wrapped to count calls and scored rows. */
export async function countingCrossEncoder(dir: string): Promise<{
  tokenizer: CrossEncoderTokenizer;
  sequenceModel: CrossEncoderSequenceModel;
  calls: () => number;
  rows: () => number;
}> {
  const tokenizer: CrossEncoderTokenizer = await runtime.loadTokenizer(local(dir), offline());
  const model = await runtime.loadSequenceClassifier(local(dir), offline());
  let calls = 0;
  let rows = 0;
  const counted = Object.assign(
    async (inputs: Record<string, RuntimeTensor>) => {
      calls += 1;
      rows += inputs.input_ids.dims[0] as number;
      return model(inputs);
    },
    { config: model.config, dispose: () => model.dispose?.() },
  );
  return { tokenizer, sequenceModel: counted, calls: () => calls, rows: () => rows };
}
