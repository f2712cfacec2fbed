// One identity rule (documentKey: doc.id, else metadata.id, else metadata.docId, else the text) for hybrid fusion,
// stage-2 dedupe and matching a compressor's output back to its candidate. Before 0.3 the dedupe ignored `doc.id`: a
// document with only `doc.id` fused as one document but was deduplicated by its text, and a compressor's output
// without `doc.id` was matched back by its text only.
import { Document, type DocumentInterface } from "@langchain/core/documents";

import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";

import {
  CrossEncoderCompressor,
  HybridSource,
  type RecallCandidate,
  type RecallSource,
  TwoStageRetriever,
} from "../src/index.js";

/** A source returning a fixed ranked list. */
const listSource = (name: string, docs: DocumentInterface[]): RecallSource => ({
  name,
  scoreKind: "test",
  recall: async (_query: string, k: number): Promise<RecallCandidate[]> =>
    docs.slice(0, k).map((document, i) => ({ document, score: 1 / (i + 1) })),
});

// Built once, never loaded: rankScored applies dedupe and threshold to given scores without the model.
const reranker = new CrossEncoderCompressor();

describe("one document identity rule", () => {
  test("two copies of one doc.id with different texts are one document: the later is a duplicate", () => {
    const docs = [
      new Document({ pageContent: "Tides follow the moon.", id: "tides", metadata: {} }),
      new Document({ pageContent: "Tides follow the moon (revised).", id: "tides", metadata: {} }),
    ];
    const ranking = reranker.rankScored(docs, [0.9, 0.8]);
    expect(ranking.dropped).toEqual([undefined, "duplicate"]);
    expect(ranking.order).toEqual([0]);
  });

  test("what hybrid fusion takes as one document (same doc.id), stage 2 takes as one document", async () => {
    const original = new Document({ pageContent: "Shared text.", id: "x", metadata: {} });
    const edited = new Document({ pageContent: "Shared text, edited.", id: "x", metadata: {} });
    const hybrid = new HybridSource({ sources: [listSource("dense", [original]), listSource("bm25", [edited])] });
    expect(await hybrid.recall("shared", 10)).toHaveLength(1);
    expect(reranker.rankScored([original, edited], [0.7, 0.6]).dropped).toEqual([undefined, "duplicate"]);
  });

  test("metadata.docId identifies documents without doc.id or metadata.id, as in fusion", () => {
    const docs = [
      new Document({ pageContent: "one", metadata: { id: 7 } }),
      new Document({ pageContent: "two", metadata: { id: 7 } }),
      new Document({ pageContent: "three", metadata: { docId: "d" } }),
      new Document({ pageContent: "four", metadata: { docId: "d" } }),
    ];
    expect(reranker.rankScored(docs, [4, 3, 2, 1]).dropped).toEqual([undefined, "duplicate", undefined, "duplicate"]);
  });

  test("the same text under two ids is still returned once (dedupe also drops repeated content)", () => {
    const docs = [
      new Document({ pageContent: "Same boilerplate disclaimer.", id: "policy-1", metadata: {} }),
      new Document({ pageContent: "Same boilerplate disclaimer.", id: "policy-2", metadata: {} }),
    ];
    expect(reranker.rankScored(docs, [0.9, 0.8]).dropped).toEqual([undefined, "duplicate"]);
  });

  test("a compressor's rewritten output is matched back to its candidate by metadata.id", async () => {
    const stored = [
      new Document({ pageContent: "Tides follow the moon and the sun.", metadata: { id: "tides" } }),
      new Document({ pageContent: "Glaciers carve valleys.", metadata: { id: "glaciers" } }),
    ];
    const source = listSource("fixed", stored);
    // Like an LLM extractor: new documents with shortened text that keep only the document's id, in its own order.
    const extractor = {
      compressDocuments: async (docs: DocumentInterface[]) =>
        [...docs]
          .reverse()
          .map(
            (doc) => new Document({ pageContent: doc.pageContent.split(" ")[0], metadata: { id: doc.metadata.id } }),
          ),
    } as unknown as BaseDocumentCompressor;
    const retriever = new TwoStageRetriever({ stage1: source, compressor: extractor, recallK: 2, topK: 2 });
    const { candidates, documents } = await retriever.explain("tides");
    expect(documents.map((doc) => doc.metadata.recallRank)).toEqual([2, 1]);
    expect(candidates.map((candidate) => candidate.returned)).toEqual([true, true]);
  });
});
