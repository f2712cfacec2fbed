// Documents are copied with their metadata deep-copied: before 0.3 the copies were shallow, so nested metadata
// values (arrays, objects) stayed shared between documents built from one metadata object, between a stage-1 index
// and the documents it returned, and between a source's documents and the retriever's results.
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import { Document } from "@langchain/core/documents";

import { Bm25Index, type RecallCandidate, TwoStageRetriever } from "../src/index.js";

describe("documents never share nested metadata", () => {
  test("documents built from one metadata object (fromTexts) do not share its nested values", async () => {
    const metadata = { tags: ["shared"], origin: { team: "docs" } };
    const index = await Bm25Index.fromTexts(["tides follow the moon", "glaciers carve valleys"], metadata);
    const [tides] = await index.recall("tides", 1);
    (tides.document.metadata.tags as string[]).push("changed");
    (tides.document.metadata.origin as { team: string }).team = "changed";
    const [glaciers] = await index.recall("glaciers", 1);
    expect(glaciers.document.metadata).toEqual({ tags: ["shared"], origin: { team: "docs" } });
    expect(metadata).toEqual({ tags: ["shared"], origin: { team: "docs" } });
  });

  test("a document returned by an index is a copy: changing it leaves the index as it was", async () => {
    const index = await Bm25Index.fromDocuments([
      new Document({ pageContent: "tides follow the moon", metadata: { tags: ["ocean"] } }),
    ]);
    const [first] = await index.recall("tides", 1);
    (first.document.metadata.tags as string[]).push("changed");
    const [again] = await index.recall("tides", 1);
    expect(again.document.metadata.tags).toEqual(["ocean"]);
  });

  test("the retriever's results share no nested metadata with the source's documents", async () => {
    const stored = new Document({ pageContent: "tides follow the moon", id: "t", metadata: { tags: ["ocean"] } });
    const source = {
      name: "fixed",
      scoreKind: "test",
      recall: async (): Promise<RecallCandidate[]> => [{ document: stored, score: 1 }],
    };
    const passThrough = { compressDocuments: async (docs: Document[]) => docs } as unknown as BaseDocumentCompressor;
    const retriever = new TwoStageRetriever({ stage1: source, compressor: passThrough, recallK: 1, topK: 1 });
    const [recalled] = await retriever.recall("tides");
    (recalled.metadata.tags as string[]).push("changed");
    const [returned] = await retriever.invoke("tides");
    (returned.metadata.tags as string[]).push("changed too");
    expect(stored.metadata.tags).toEqual(["ocean"]);
  });
});
