import { Document } from "@langchain/core/documents";

import { CrossEncoderCompressor, FaissVectorStore, TransformersEmbeddings, TwoStageRetriever } from "../src/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

// The type assertions below are checked by the compiler (ts-jest and `npm run lint` type-check this file): each
// `@ts-expect-error` line must fail to type-check, or the build fails with "Unused '@ts-expect-error' directive".
const models = buildTestModels();
const embeddings = new TransformersEmbeddings({ model: models.biEncoder });
const reranker = new CrossEncoderCompressor({ model: models.crossEncoder, topN: 2 });
afterAll(async () => {
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
  models.cleanup();
});

test("result metadata is typed: the package's fields have their types, the document's own are unknown", async () => {
  const store = await FaissVectorStore.fromTexts([...TEST_CORPUS], { source: "corpus" }, embeddings);
  const retriever = new TwoStageRetriever({ vectorStore: store, compressor: reranker, recallK: 5, topK: 2 });
  const [doc] = await retriever.invoke("honeybees waggle dance");

  const recallRank: number = doc.metadata.recallRank;
  const reranked: boolean = doc.metadata.reranked;
  const relevance: number | undefined = doc.metadata.relevanceScore; // absent when stage-1 order came back
  // @ts-expect-error relevanceScore is a number, not a string
  const wrong: string = doc.metadata.relevanceScore;
  // @ts-expect-error recallRank may not be used as a string either
  doc.metadata.recallRank.toUpperCase?.();
  // @ts-expect-error a document's own field is unknown until narrowed
  const source: string = doc.metadata.source;
  const narrowed = typeof doc.metadata.source === "string" ? doc.metadata.source : "";

  const [compressed] = await reranker.compressDocuments([new Document({ pageContent: TEST_CORPUS[13] })], "bees");
  const score: number = compressed.metadata.relevanceScore; // always present on the compressor's output
  // @ts-expect-error rerankRank is a number
  const rank: string = compressed.metadata.rerankRank;

  expect([recallRank, reranked, typeof relevance, typeof wrong, typeof source, narrowed]).toEqual([
    1,
    true,
    "number",
    "number",
    "string",
    "corpus",
  ]);
  expect(typeof score).toBe("number");
  expect(typeof rank).toBe("number");
});
