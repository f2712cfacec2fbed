import { InvalidArgumentError, TransformersEmbeddings } from "../src/index.js";
import type { RuntimeTensor as Tensor } from "../src/models/types.js";
import { pretrained, transformers } from "./support/runtime.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

const models = buildTestModels(TEST_CORPUS);
afterAll(() => models.cleanup());

async function injectedExtractor() {
  const extractor = await transformers.pipeline("feature-extraction", ...pretrained(models.biEncoder));
  const shapes: number[][] = [];
  let disposed = 0;
  const model = extractor.model as unknown as { _call(inputs: Record<string, Tensor>): Promise<unknown> };
  const realCall = model._call.bind(model);
  Object.assign(model, {
    _call: (inputs: Record<string, Tensor>) => {
      shapes.push(inputs.input_ids.dims as number[]);
      return realCall(inputs);
    },
  });
  const realDispose = extractor.dispose.bind(extractor);
  extractor.dispose = async () => {
    disposed += 1;
    await realDispose();
  };
  return { extractor, shapes, disposed: () => disposed };
}

describe("TransformersEmbeddings lifecycle and memory budget", () => {
  test("dispose() leaves an injected extractor with its owner: not freed, and later calls still use it", async () => {
    const { extractor, disposed } = await injectedExtractor();
    const embeddings = new TransformersEmbeddings({ extractor, model: "Xenova/never-loaded" });
    const before = await embeddings.embedQuery(TEST_CORPUS[2]);
    await embeddings.dispose();
    expect(disposed()).toBe(0);
    const after = await embeddings.embedQuery(TEST_CORPUS[2]); // no hub load of "Xenova/never-loaded"
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i], 6));
    await extractor.dispose();
  });

  test("batches are planned by a token budget (rows × longest row) and results keep input order", async () => {
    const { extractor, shapes } = await injectedExtractor();
    const texts = TEST_CORPUS.map((text, i) => (i % 3 === 0 ? `${text} ${text} ${text}` : text.slice(0, 20 + i)));
    const reference = await new TransformersEmbeddings({ extractor, batchSize: 1 }).embedDocuments(texts);
    shapes.length = 0;
    const budgeted = new TransformersEmbeddings({ extractor, maxBatchTokens: 200 });
    const vectors = await budgeted.embedDocuments(texts);
    vectors.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(reference[i][j], 5)));
    expect(shapes.length).toBeGreaterThan(1);
    for (const [rows, columns] of shapes) expect(rows === 1 || rows * columns <= 200).toBe(true);
    expect(budgeted.maxBatchTokens).toBe(200);
    expect(new TransformersEmbeddings().maxBatchTokens).toBe(4096);
    expect(() => new TransformersEmbeddings({ maxBatchTokens: 0 })).toThrow(InvalidArgumentError);
    await expect(budgeted.embedDocuments(null as unknown as string[])).rejects.toThrow(/texts must be an array/);
    await extractor.dispose();
  });
});
