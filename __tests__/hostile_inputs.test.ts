import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import {
  Bm25Index,
  CascadeCompressor,
  CrossEncoderCompressor,
  InvalidArgumentError,
  TwoStageRetriever,
} from "../src/index.js";
import { TEST_CORPUS } from "./support/corpus.js";

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
