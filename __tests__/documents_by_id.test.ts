// Looking documents up by the ids search results carry (the MCP `get` tool, TwoStageRetriever.getDocuments): the
// identity rule, ids of documents without one (`text:<start>`), missing ids, and copies, never the stored objects.
import { Document } from "@langchain/core/documents";

import { Bm25Index, HybridSource, TwoStageRetriever } from "../src/index.js";
import { documentsById } from "../src/documents/documents_by_id.js";

const docs = [
  new Document({ id: "a", pageContent: "Tides follow the moon.", metadata: {} }),
  new Document({ pageContent: "Espresso needs finely ground coffee.", metadata: { docId: "b" } }),
  new Document({ pageContent: "No id here: rivers flow to the sea.", metadata: { n: 1 } }),
];

test("documentsById matches by the identity rule, text:<start> without an id, in the order asked", () => {
  const found = documentsById(docs, ["b", "missing", "text:No id here", "a", "a"]);
  expect(found.map((d) => d?.pageContent)).toEqual([
    docs[1].pageContent,
    undefined,
    docs[2].pageContent,
    docs[0].pageContent,
    docs[0].pageContent,
  ]);
  expect(documentsById(docs, ["text:rivers"])).toEqual([undefined]); // the start of the text, not any part
});

test("Bm25Index, a hybrid and the retriever return copies of the stored documents", async () => {
  const bm25 = new Bm25Index();
  await bm25.addDocuments(docs);
  const [a] = await bm25.getDocuments(["a"]);
  expect(a?.pageContent).toBe(docs[0].pageContent);
  a!.metadata.changed = true;
  expect((await bm25.getDocuments(["a"]))[0]?.metadata.changed).toBeUndefined();

  const other = new Bm25Index();
  await other.addDocuments([new Document({ id: "z", pageContent: "Only in the second source.", metadata: {} })]);
  const hybrid = new HybridSource({
    sources: [
      { source: bm25, name: "first" },
      { source: other, name: "second" },
    ],
  });
  expect((await hybrid.getDocuments(["z", "a", "none"])).map((d) => d?.pageContent)).toEqual([
    "Only in the second source.",
    docs[0].pageContent,
    undefined,
  ]);

  const retriever = new TwoStageRetriever({
    stage1: bm25,
    compressor: { compressDocuments: async (d: Document[]) => d } as never,
  });
  // A document added without an id gets the store's (a UUID), which its search results carry: that is its id now.
  const [espresso] = await retriever.invoke("espresso coffee");
  expect(espresso.id).toMatch(/^[0-9a-f-]{36}$/);
  expect((await retriever.getDocuments([espresso.id!]))[0]?.pageContent).toBe(docs[1].pageContent);
  await expect(retriever.getDocuments(["" as string])).rejects.toThrow(/ids must be an array of non-empty strings/);
  await expect(retriever.getDocuments("a" as never)).rejects.toThrow(/ids must be an array/);
});
