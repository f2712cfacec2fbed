import { Document, type DocumentInterface } from "@langchain/core/documents";

import { Bm25Index, EnglishAnalyzer, HybridSource, InvalidArgumentError } from "../src/index.js";
import { matchesFilter } from "../src/recall/filtered_search.js";
import type { RecallCandidate, RecallFilter, RecallSource } from "../src/recall/recall_source.js";

/** A source returning a fixed ranked list (filtered), recording what it was asked. */
class ListSource implements RecallSource {
  readonly scoreKind = "test";
  readonly calls: { query: string; k: number; filter?: RecallFilter }[] = [];
  constructor(
    readonly name: string,
    private readonly ranked: [DocumentInterface, number][],
  ) {}
  async recall(query: string, k: number, filter?: RecallFilter): Promise<RecallCandidate[]> {
    this.calls.push({ query, k, filter });
    return this.ranked
      .filter(([doc]) => matchesFilter(filter, doc))
      .slice(0, k)
      .map(([document, score]) => ({ document, score }));
  }
}

const doc = (id: string, metadata: Record<string, unknown> = {}): Document =>
  new Document({ pageContent: `text of ${id}`, metadata, id });

const A = doc("a", { lang: "en" });
const B = doc("b", { lang: "fr" });
const C = doc("c", { lang: "en" });
const D = doc("d", { lang: "en" });

describe("HybridSource", () => {
  test("a source that returns [null], a non-array or a candidate without a score is a named error", async () => {
    const broken = (name: string, answer: unknown): RecallSource => ({
      name,
      scoreKind: "test",
      recall: async () => answer as RecallCandidate[],
    });
    const good = new ListSource("good", [[A, 1]]);
    const cases: [unknown, RegExp][] = [
      [[null], /^sources\[1\] \(bad\)\.recall\(\) returned null at \[0\]; expected \{ document/],
      [undefined, /^sources\[1\] \(bad\)\.recall\(\) returned undefined; expected an array/],
      [[{ document: A }], /returned a candidate whose score is undefined at \[0\]/],
      [[{ document: {}, score: 1 }], /returned a candidate whose document\.pageContent is undefined at \[0\]/],
    ];
    for (const [answer, message] of cases) {
      const hybrid = new HybridSource({ sources: [good, broken("bad", answer)] });
      await expect(hybrid.recall("q", 3)).rejects.toThrow(message);
    }
  });

  test("Reciprocal Rank Fusion, computed by hand", async () => {
    // dense: a, b, c   bm25: c, a, d
    const dense = new ListSource("dense", [
      [A, 0.9],
      [B, 0.8],
      [C, 0.7],
    ]);
    const bm25 = new ListSource("bm25", [
      [C, 12],
      [A, 10],
      [D, 3],
    ]);
    const hybrid = new HybridSource({ sources: [dense, bm25] });
    expect([hybrid.name, hybrid.scoreKind, hybrid.rrfK]).toEqual(["hybrid", "rrf", 60]);
    const fused = await hybrid.recall("q", 4);
    const expected = {
      a: 1 / 61 + 1 / 62,
      c: 1 / 63 + 1 / 61,
      b: 1 / 62,
      d: 1 / 63,
    };
    expect(fused.map((c) => c.document.id)).toEqual(["a", "c", "b", "d"]);
    for (const c of fused) expect(c.score).toBeCloseTo(expected[c.document.id as keyof typeof expected], 15);
    expect(fused[0].details).toEqual({ denseRank: 1, denseScore: 0.9, bm25Rank: 2, bm25Score: 10 });
    expect(fused[3].details).toEqual({ denseRank: undefined, denseScore: undefined, bm25Rank: 3, bm25Score: 3 });
    expect((await hybrid.recall("q", 2)).map((c) => c.document.id)).toEqual(["a", "c"]);
  });

  test("weights and rrfK change RRF as the formula says; ties go to the better best rank", async () => {
    const dense = new ListSource("dense", [
      [A, 1],
      [B, 0.5],
    ]);
    const bm25 = new ListSource("bm25", [
      [B, 5],
      [A, 4],
    ]);
    const tied = await new HybridSource({ sources: [dense, bm25], rrfK: 0 }).recall("q", 2);
    expect(tied.map((c) => c.score)).toEqual([1 + 1 / 2, 1 + 1 / 2]);
    expect(tied.map((c) => c.document.id)).toEqual(["a", "b"]); // equal best rank: the earlier source's first wins
    const weighted = await new HybridSource({
      sources: [
        { source: dense, weight: 1 },
        { source: bm25, weight: 3 },
      ],
      rrfK: 10,
    }).recall("q", 2);
    expect(weighted.map((c) => c.document.id)).toEqual(["b", "a"]);
    expect(weighted[0].score).toBeCloseTo(1 / 12 + 3 / 11, 15);
  });

  test("min-max normalised score fusion with a weight, computed by hand", async () => {
    const dense = new ListSource("dense", [
      [A, 0.9],
      [B, 0.6],
      [C, 0.3],
    ]);
    const bm25 = new ListSource("bm25", [
      [C, 20],
      [D, 15],
      [A, 10],
    ]);
    const hybrid = new HybridSource({
      sources: [
        { source: dense, weight: 0.3 },
        { source: bm25, weight: 0.7 },
      ],
      fusion: "minmax",
    });
    expect(hybrid.scoreKind).toBe("minmax");
    const fused = await hybrid.recall("q", 4);
    const expected: Record<string, number> = {
      a: 0.3 * 1 + 0.7 * 0,
      b: 0.3 * 0.5,
      c: 0.3 * 0 + 0.7 * 1,
      d: 0.7 * 0.5,
    };
    expect(fused.map((c) => c.document.id)).toEqual(["c", "d", "a", "b"]);
    for (const c of fused) expect(c.score).toBeCloseTo(expected[c.document.id as string], 12);
    const single = new ListSource("one", [[A, 5]]);
    const flat = await new HybridSource({ sources: [single, bm25], fusion: "minmax" }).recall("q", 1);
    expect(flat[0].details?.oneRank).toBe(1);
  });

  test("each source gets its own depth (default k) and the same query and filter", async () => {
    const dense = new ListSource("dense", [
      [A, 0.9],
      [B, 0.8],
      [C, 0.7],
    ]);
    const bm25 = new ListSource("bm25", [
      [B, 2],
      [D, 1],
    ]);
    const hybrid = new HybridSource({ sources: [{ source: dense, depth: 50, name: "vec" }, bm25] });
    const filter = { lang: "en" };
    const fused = await hybrid.recall("tides", 3, filter);
    expect(dense.calls).toEqual([{ query: "tides", k: 50, filter }]);
    expect(bm25.calls).toEqual([{ query: "tides", k: 3, filter }]);
    expect(fused.every((c) => c.document.metadata.lang === "en")).toBe(true);
    expect(fused[0].details).toHaveProperty("vecRank", 1);
  });

  test("documents are matched by id, else metadata.id / docId, else text", async () => {
    const s1 = new ListSource("s1", [
      [new Document({ pageContent: "same text", metadata: { docId: 7 } }), 1],
      [new Document({ pageContent: "plain" }), 0.5],
    ]);
    const s2 = new ListSource("s2", [
      [new Document({ pageContent: "other text, same doc", metadata: { docId: 7 } }), 3],
      [new Document({ pageContent: "plain" }), 2],
    ]);
    const fused = await new HybridSource({ sources: [s1, s2] }).recall("q", 5);
    expect(fused).toHaveLength(2);
    expect(fused[0].document.pageContent).toBe("same text"); // the first source's document
    expect(fused[0].details).toEqual({ s1Rank: 1, s1Score: 1, s2Rank: 1, s2Score: 3 });
    expect(fused[1].details).toEqual({ s1Rank: 2, s1Score: 0.5, s2Rank: 2, s2Score: 2 });
  });

  test("over real BM25 indexes, with filters and addDocuments to every source", async () => {
    const docs = [
      "glaciers carve moraines",
      "The glacier left a moraine behind",
      "tides follow the moon",
      "running glaciers",
    ].map((text, i) => new Document({ pageContent: text, metadata: { i }, id: `d${i}` }));
    const stemmed = await Bm25Index.fromDocuments(docs);
    const plain = await Bm25Index.fromDocuments(docs, { analyzer: new EnglishAnalyzer({ stem: false }) });
    const hybrid = new HybridSource({
      sources: [
        { source: stemmed, name: "stemmed" },
        { source: plain, name: "plain" },
      ],
    });
    const fused = await hybrid.recall("glacier moraine", 10);
    expect(fused.map((c) => c.document.id).sort()).toEqual(["d0", "d1", "d3"]);
    expect(fused[0].document.id).toBe("d1"); // first in both lists
    expect(fused.find((c) => c.document.id === "d0")?.details?.plainRank).toBeUndefined();
    expect((await hybrid.recall("glacier", 10, (d) => d.metadata.i === 3)).map((c) => c.document.id)).toEqual(["d3"]);
    const ids = await hybrid.addDocuments([new Document({ pageContent: "a glacier glacier glacier" })]);
    expect(stemmed.size).toBe(5);
    expect(plain.size).toBe(5);
    const top = await hybrid.recall("glacier", 1);
    expect(top[0].document.id).toBe(ids[0]);
  });

  test("bad configurations are refused with the fix", () => {
    const one = new ListSource("one", []);
    expect(() => new HybridSource({ sources: [one] })).toThrow(/two or more sources; got 1/);
    expect(() => new HybridSource({ sources: [one, new ListSource("one", [])] })).toThrow(/unique non-empty name/);
    expect(() => new HybridSource({ sources: [one, { source: {} as RecallSource }] })).toThrow(InvalidArgumentError);
    expect(
      () => new HybridSource({ sources: [one, new ListSource("two", [])], fusion: "max" as unknown as "rrf" }),
    ).toThrow(/Expected one of: rrf, minmax/);
    expect(() => new HybridSource({ sources: [{ source: one, depth: 0 }, new ListSource("two", [])] })).toThrow(
      /depth must be a positive integer/,
    );
    expect(() => new HybridSource({ sources: [one, { source: new ListSource("two", []), weight: -1 }] })).toThrow(
      /weight must be a finite number >= 0; got -1/,
    );
  });

  test("k is validated before any source is asked", async () => {
    const a = new ListSource("a", [[A, 1]]);
    const hybrid = new HybridSource({ sources: [a, new ListSource("b", [])] });
    await expect(hybrid.recall("q", 0)).rejects.toThrow(InvalidArgumentError);
    expect(a.calls).toHaveLength(0);
  });
});
