// The plan of `two-stage index --update`: which files are added, changed, removed, unchanged or kept (unreadable),
// which documents are embedded and which deleted — from the per-file content hashes the index records.
import { Document } from "@langchain/core/documents";

import { Bm25Index } from "../src/index.js";
import { planUpdate, sourceHashes } from "../src/cli/index_update.js";

/** The CLI's documents of a file: chunks `<source>#<n>`. */
const chunks = (source: string, texts: string[]) =>
  texts.map(
    (text, i) => new Document({ pageContent: text, metadata: { docId: `${source}#${i + 1}`, source, chunk: i + 1 } }),
  );

async function indexed(docs: Document[]) {
  const bm25 = await Bm25Index.fromDocuments(docs, {}, { ids: docs.map((d) => String(d.metadata.docId)) });
  return { bm25 };
}

describe("index --update's plan", () => {
  const a = chunks("a.md", ["alpha one", "alpha two"]);
  const b = chunks("b.md", ["beta one", "beta two", "beta three"]);
  const c = chunks("c.md", ["gamma"]);

  test("changed, added, removed, unchanged; a changed file's old chunks are all deleted", async () => {
    const parts = await indexed([...a, ...b, ...c]);
    const recorded = sourceHashes([...a, ...b, ...c]);
    const bNow = chunks("b.md", ["beta one", "beta two, edited"]); // lost a chunk
    const d = chunks("d.md", ["delta"]);
    const plan = planUpdate(parts, [...a, ...bNow, ...d], [], recorded);
    expect(plan).toMatchObject({ added: ["d.md"], changed: ["b.md"], removed: ["c.md"], unchanged: ["a.md"] });
    expect(plan.documents.map((doc) => doc.metadata.docId)).toEqual(["b.md#1", "b.md#2", "d.md#1"]);
    expect(plan.deleteIds.sort()).toEqual(["b.md#1", "b.md#2", "b.md#3", "c.md#1"]);
    expect(plan.record).toEqual(sourceHashes([...a, ...bNow, ...d]));
    // The same inputs again: nothing to do.
    const again = planUpdate(parts, [...a, ...b, ...c], [], recorded);
    expect([again.documents.length, again.deleteIds.length, again.unchanged.length]).toEqual([0, 0, 3]);
  });

  test("metadata counts as content; an unreadable file keeps its chunks; no record replaces everything", async () => {
    const parts = await indexed([...a, ...b, ...c]);
    const recorded = sourceHashes([...a, ...b, ...c]);
    const retagged = a.map((doc) => new Document({ ...doc, metadata: { ...doc.metadata, chunk: 9 } }));
    expect(planUpdate(parts, [...retagged, ...b, ...c], [], recorded).changed).toEqual(["a.md"]);
    const kept = planUpdate(parts, [...a, ...b], [{ path: "c.md", reason: "not UTF-8" }], recorded);
    expect(kept).toMatchObject({ kept: ["c.md"], removed: [], deleteIds: [] });
    expect(kept.record["c.md"]).toBe(recorded["c.md"]);
    const fresh = planUpdate(parts, [...a, ...b], [], undefined);
    expect(fresh.unrecorded).toBe(true);
    expect(fresh.deleteIds.sort()).toEqual(parts.bm25.ids().sort());
    expect(fresh.documents).toHaveLength(5);
  });

  test("a new document taking the id of one that stays is refused, not a silent replacement", async () => {
    const records = [new Document({ pageContent: "one", metadata: { docId: "r1", source: "x.jsonl" } })];
    const parts = await indexed([...a, ...records]);
    const recorded = sourceHashes([...a, ...records]);
    const twin = [new Document({ pageContent: "other", metadata: { docId: "r1", source: "y.jsonl" } })];
    expect(() => planUpdate(parts, [...a, ...records, ...twin], [], recorded)).toThrow(
      "--update: document id 'r1' of y.jsonl is already held by a document of another input file.",
    );
  });
});
