import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import { FakeEmbeddings } from "@langchain/core/utils/testing";

import {
  Bm25Index,
  CascadeCompressor,
  CrossEncoderCompressor,
  FaissVectorStore,
  InvalidArgumentError,
  TransformersEmbeddings,
  TwoStageRetriever,
} from "../src/index.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

/** A stage 2 that keeps stage-1 order after a short wait. */
class PassThrough extends BaseDocumentCompressor {
  async compressDocuments(documents: DocumentInterface[]): Promise<DocumentInterface[]> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return documents.map(
      (doc, i) => new Document({ ...doc, metadata: { ...doc.metadata, relevanceScore: 1 / (i + 1) } }),
    );
  }
}

const bm25 = () => Bm25Index.fromTexts([...TEST_CORPUS]);

describe("duration options stay within what Node's timers support", () => {
  test("rerankTimeoutMs ≥ 2^31 (clamped by Node to 1 ms) is refused at construction, naming the range", async () => {
    const stage1 = await bm25();
    for (const bad of [2 ** 31, 1e12, Infinity, NaN, 0, -5, 1.5, "100"]) {
      expect(
        () => new TwoStageRetriever({ stage1, compressor: new PassThrough(), rerankTimeoutMs: bad as number }),
      ).toThrow(InvalidArgumentError);
    }
    expect(() => new TwoStageRetriever({ stage1, compressor: new PassThrough(), rerankTimeoutMs: 2 ** 31 })).toThrow(
      /rerankTimeoutMs must be a whole number of milliseconds from 1 to 2147483647 .*got 2147483648\. Node fires a longer timer after 1 ms/,
    );
    expect(
      () =>
        new TwoStageRetriever({ stage1, compressor: new PassThrough(), rerankTimeoutMs: "100" as unknown as number }),
    ).toThrow(/got the string "100"\. Pass a number \(100\), not a string/);
    // The largest supported timeout really waits for the rerank.
    const patient = new TwoStageRetriever({
      stage1,
      compressor: new PassThrough(),
      rerankTimeoutMs: 2 ** 31 - 1,
      topK: 2,
    });
    const docs = await patient.invoke("honeybees dance");
    expect(docs.every((doc) => doc.metadata.reranked)).toBe(true);
  });

  test("rerankBudgetMs is checked by the same rule", () => {
    const reranker = new CrossEncoderCompressor({ model: "unused" });
    expect(() => new CascadeCompressor({ stages: [{ reranker }], rerankBudgetMs: 2 ** 31 })).toThrow(
      /rerankBudgetMs must be a whole number of milliseconds from 1 to 2147483647/,
    );
    expect(new CascadeCompressor({ stages: [{ reranker }], rerankBudgetMs: 2 ** 31 - 1 }).rerankBudgetMs).toBe(
      2 ** 31 - 1,
    );
  });
});

describe("factories check their input before computing anything from it", () => {
  const embeddings = new FakeEmbeddings();
  const factories: [string, (input: unknown) => Promise<unknown>][] = [
    [
      "TwoStageRetriever.fromDocuments (bm25)",
      (x) => TwoStageRetriever.fromDocuments(x as never, { stage1Kind: "bm25" }),
    ],
    ["TwoStageRetriever.fromDocuments (dense)", (x) => TwoStageRetriever.fromDocuments(x as never, { embeddings })],
    ["TwoStageRetriever.fromTexts", (x) => TwoStageRetriever.fromTexts(x as never, {}, { stage1Kind: "bm25" })],
    ["Bm25Index.fromDocuments", (x) => Bm25Index.fromDocuments(x as never)],
    ["Bm25Index.fromTexts", (x) => Bm25Index.fromTexts(x as never)],
    ["FaissVectorStore.fromDocuments", (x) => FaissVectorStore.fromDocuments(x as never, embeddings)],
    ["FaissVectorStore.fromTexts", (x) => FaissVectorStore.fromTexts(x as never, {}, embeddings)],
  ];
  test.each(factories)("%s: null, a string, [null], [42] and [{}] are named InvalidArgumentErrors", async (_, make) => {
    for (const bad of [null, "some text", [null], [42], [{}]]) {
      const error = await make(bad).then(
        () => new Error(`accepted ${JSON.stringify(bad)}`),
        (e: unknown) => e,
      );
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/^(docs|documents|texts)(\[0\])?(\.pageContent)? (must|is) /);
    }
  });

  test("fromTexts refuses metadata that is not an object", async () => {
    await expect(TwoStageRetriever.fromTexts(["a"], [42] as never, { stage1Kind: "bm25" })).rejects.toThrow(
      /metadatas\[0\] is number 42, not an object/,
    );
    await expect(Bm25Index.fromTexts(["a"], "meta" as never)).rejects.toThrow(/metadatas must be an object/);
  });
});

describe("error messages blame the right thing", () => {
  test('scoreThreshold "0.5" says it must be a number and got a string (not "0.5 is outside [0, 1]")', () => {
    expect(() => new CrossEncoderCompressor({ scoreThreshold: "0.5" as unknown as number })).toThrow(
      /^scoreThreshold must be a number; got the string "0\.5"\. Pass 0\.5, not a string\.$/,
    );
    expect(() => new CrossEncoderCompressor({ scoreThreshold: null as unknown as number })).toThrow(
      /^scoreThreshold must be a number; got null\./,
    );
    expect(() => new CrossEncoderCompressor({ scoreThreshold: 1.5 })).toThrow(
      /scoreThreshold 1\.5 is outside \[0, 1\]/,
    );
  });

  test("maxLength too small for [CLS] query [SEP] passage [SEP] is refused naming maxLength (not passageOverlap)", () => {
    for (const maxLength of [1, 2, 3, 5, 10]) {
      expect(() => new CrossEncoderCompressor({ maxLength })).toThrow(
        new RegExp(`^maxLength ${maxLength} leaves \\d document tokens?: .*Use maxLength 11 or more`),
      );
    }
    expect(new CrossEncoderCompressor({ maxLength: 11 }).maxLength).toBe(11);
    expect(() => new CrossEncoderCompressor({ maxLength: 64, maxQueryLength: 62 })).toThrow(
      /^maxLength 64 leaves 1 document token: .*query \(maxQueryLength 62\).*Use maxLength 68 or more, or a smaller maxQueryLength/,
    );
  });

  test('model: 42 or "" is refused naming model (was TypeError name.replace, or the working directory as a model)', () => {
    for (const make of [
      (model: unknown) => new CrossEncoderCompressor({ model: model as string }),
      (model: unknown) => new TransformersEmbeddings({ model: model as string }),
    ]) {
      expect(() => make(42)).toThrow(
        /^model must be a hub id \(e\.g\. "Xenova\/.*"\) or the path of a local model folder; got number 42\./,
      );
      expect(() => make("")).toThrow(
        /^model must be a hub id .*; got an empty string\. Omit it for the default model\./,
      );
      expect(() => make("  ")).toThrow(/got an empty string \(" {2}"\)/);
    }
  });
});

describe("minor rows", () => {
  const models = buildTestModels();
  afterAll(() => models.cleanup());

  test("a user's recallRank, relevanceScore, … are kept under metadata.shadowedMetadata, never overwritten", async () => {
    const user = { recallRank: "mine", relevanceScore: 0.123, rerankRank: [1], reranked: "yes", topic: "bees" };
    const docs = TEST_CORPUS.map((text, i) => new Document({ pageContent: text, metadata: { ...user, n: i } }));
    const stage1 = await Bm25Index.fromDocuments(docs);
    const reranker = new CrossEncoderCompressor({ model: models.crossEncoder });
    const retriever = new TwoStageRetriever({ stage1, compressor: reranker, recallK: 5, topK: 2 });
    const [top] = await retriever.invoke("waggle dance of honeybees");
    expect(top.metadata).toMatchObject({
      recallRank: expect.any(Number),
      rerankRank: 1,
      reranked: true,
      topic: "bees",
    });
    expect(top.metadata.shadowedMetadata).toEqual({
      recallRank: "mine",
      relevanceScore: 0.123,
      rerankRank: [1],
      reranked: "yes",
    });
    const [alone] = await reranker.compressDocuments([docs[13]], "honeybees");
    expect(alone.metadata.relevanceScore).not.toBe(0.123);
    expect(alone.metadata.shadowedMetadata).toMatchObject({ relevanceScore: 0.123, rerankRank: [1] });
    expect(docs[13].metadata).toEqual({ ...user, n: 13 }); // the caller's documents are untouched
    await reranker.dispose();
  });

  test("compressor: {} is refused at construction, not at the first invoke", async () => {
    const stage1 = await bm25();
    for (const compressor of [{}, "rerank", 42, { compressDocuments: "no" }]) {
      expect(() => new TwoStageRetriever({ stage1, compressor: compressor as never })).toThrow(
        /^compressor must be a LangChain document compressor \(with compressDocuments\(documents, query\)\); got /,
      );
    }
    expect(() => new TwoStageRetriever({ stage1, compressor: {} as never })).toThrow(
      /got object without compressDocuments/,
    );
  });

  test("a hybrid whose query embeds to a zero vector falls back to BM25 and says so in metadata", async () => {
    const embeddings = {
      embedDocuments: async (texts: string[]) => texts.map((_, i) => [1, (i % 7) + 1, 0.5]),
      embedQuery: async () => [0, 0, 0],
    };
    const retriever = await TwoStageRetriever.fromTexts(
      [...TEST_CORPUS],
      {},
      {
        stage1Kind: "hybrid",
        embeddings,
        compressor: new PassThrough(),
        recallK: 5,
        topK: 2,
      },
    );
    const docs = await retriever.invoke("waggle dance of honeybees");
    expect(docs.map((d) => d.pageContent)).toEqual([TEST_CORPUS[13]]); // the one BM25 match
    expect(docs[0].metadata).toMatchObject({
      bm25Rank: 1,
      denseRank: undefined,
      hybridFallback: expect.stringMatching(
        /^dense left out: the query has no embedding .*zero vector.*ranked by bm25 alone$/,
      ),
    });
    await retriever.dispose();
  });
});
