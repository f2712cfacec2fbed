// Bm25Index ranks a query whose postings reach 1/8 of the documents densely (no touched list; one pass over the score
// array selects the top k) and smaller queries through a touched list and a heap. Both must give exactly what the
// formula the index always used gives: the same Float64 operations in the same order, so the same bits, and the same
// tie order (score descending, then document number). The reference below recomputes that formula from the
// analyzer's tokens, over every document, with no index at all.
import { Document } from "@langchain/core/documents";

import { Bm25Index, EnglishAnalyzer } from "../src/index.js";
import { quantizedLength } from "../src/recall/bm25/small_float.js";
import { seededRandom } from "./support/random.js";

const analyzer = new EnglishAnalyzer();

/** A live document of the reference: its id, its tokens and its metadata. */
interface RefDoc {
  id: string;
  tokens: string[];
  parity: string;
}

/**
 * The pre-change ranking, operation by operation: `weight = count · ln(1 + (N − df + 0.5)/(df + 0.5))` per query term
 * (terms in order of first appearance in the query), `norm = k1 · (1 − b + b · dl / avgdl)`, each posting adding
 * `(weight · tf) / (tf + norm)` to a Float64 sum; sorted by score descending, then document number.
 */
function referenceRanking(
  docs: RefDoc[],
  query: string,
  k: number,
  options: { k1?: number; b?: number; quantize?: boolean; keep?: (d: number) => boolean } = {},
): [number, number][] {
  const { k1 = 0.9, b = 0.4, quantize = true, keep = () => true } = options;
  let docCount = 0;
  let total = 0;
  for (const doc of docs) {
    if (doc.tokens.length > 0) docCount += 1;
    total += doc.tokens.length;
  }
  const avgdl = docCount === 0 ? 1 : total / docCount;
  const norms = docs.map((doc) => {
    const length = quantize ? quantizedLength(doc.tokens.length) : doc.tokens.length;
    return k1 * (1 - b + (b * length) / avgdl);
  });
  const known = new Set(docs.flatMap((doc) => doc.tokens));
  const counts = new Map<string, number>();
  for (const token of analyzer.analyze(query)) {
    if (known.has(token)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  const scores = new Float64Array(docs.length);
  for (const [term, count] of counts) {
    const tfs = docs.map((doc) => doc.tokens.filter((t) => t === term).length);
    const df = tfs.filter((tf) => tf > 0).length;
    if (df === 0) continue;
    const weight = count * Math.log(1 + (docCount - df + 0.5) / (df + 0.5));
    tfs.forEach((tf, d) => {
      if (tf > 0) scores[d] += (weight * tf) / (tf + norms[d]);
    });
  }
  const ranked: [number, number][] = [];
  scores.forEach((score, d) => {
    if (score > 0 && keep(d)) ranked.push([d, score]);
  });
  ranked.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  return ranked.slice(0, k);
}

const COMMON = ["tide", "moon", "sea"]; // in most documents: queries over them are ranked densely
const RARE = Array.from({ length: 600 }, (_, i) => `rare${String.fromCharCode(97 + (i % 26))}${i}x`);

/** Random texts: common words often, rare ones seldom, some documents repeated word for word (exact ties). */
function randomTexts(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && random() < 0.2) {
      texts.push(texts[Math.floor(random() * texts.length)]); // a twin: the same score as an earlier document
      continue;
    }
    const length = random() < 0.05 ? 0 : 1 + Math.floor(random() * 60);
    const words = Array.from({ length }, () =>
      random() < 0.3 ? COMMON[Math.floor(random() * COMMON.length)] : RARE[Math.floor(random() * RARE.length)],
    );
    texts.push(words.join(" "));
  }
  return texts;
}

const QUERIES = [
  "tide", // every posting list of a common word: dense
  "tide moon sea moon", // dense, a repeated query term
  RARE[3], // a few postings: the touched list
  `${RARE[5]} ${RARE[17]} unseenword`, // sparse, and a term in no document
  `tide ${RARE[8]}`, // dense through its common term
];

function expectSame(index: Bm25Index, docs: RefDoc[], settings: { k1?: number; b?: number; quantize?: boolean }) {
  for (const query of QUERIES) {
    for (const k of [1, 7, 10, 1_000]) {
      expect(index.search(query, k)).toEqual(referenceRanking(docs, query, k, settings));
    }
  }
}

describe("Bm25Index ranking, dense and sparse paths", () => {
  test("scores are bit-identical to the formula and ties go to the earlier document, in both length modes", async () => {
    for (const [seed, settings] of [
      [1, { quantize: true }],
      [2, { quantize: false }],
      [3, { k1: 1.2, b: 0.75, quantize: true }],
    ] as const) {
      const texts = randomTexts(seed, 300);
      const index = await Bm25Index.fromTexts(
        texts,
        {},
        { k1: settings.k1, b: settings.b, luceneLengthQuantization: settings.quantize },
      );
      const docs = texts.map((text, i) => ({ id: String(i), tokens: analyzer.analyze(text), parity: "" }));
      expectSame(index, docs, settings);
      // both paths are really taken: a common word's postings cover most documents, a rare word's a few percent
      const tide = docs.filter((doc) => doc.tokens.includes("tide")).length;
      const rare = docs.filter((doc) => doc.tokens.includes(RARE[3])).length;
      expect(tide).toBeGreaterThan(docs.length / 2);
      expect(rare).toBeGreaterThan(0);
      expect(rare).toBeLessThan(docs.length / 8);
    }
  });

  test("a k that cuts through a group of tied twins keeps the earliest ones (dense path)", async () => {
    const texts = ["tide moon", ...Array.from({ length: 30 }, () => "tide"), "moon"];
    const index = await Bm25Index.fromTexts(texts);
    const ranked = index.search("tide", 5);
    expect(ranked.map(([d]) => d)).toEqual([1, 2, 3, 4, 5]); // the 30 twins tie; "tide moon" is longer, so lower
    expect(new Set(ranked.map(([, s]) => s)).size).toBe(1);
    expect(index.search("tide", 100).map(([d]) => d)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => i + 1),
      0, // the one document also holding "moon" is longer: it scores below the twins
    ]);
  });

  test("after adds, deletes and upserts the ranking still equals the formula over the live documents", async () => {
    const random = seededRandom(42);
    const texts = randomTexts(7, 400);
    const index = new Bm25Index();
    const live: RefDoc[] = [];
    let next = 0;
    const add = async (count: number, upsertIds: string[] = []) => {
      const batch = texts.slice(next, next + count);
      next += count;
      const ids = batch.map((_, i) => upsertIds[i] ?? `doc-${next - count + i}`);
      await index.addDocuments(
        batch.map((text, i) => new Document({ pageContent: text, metadata: { parity: i % 2 ? "odd" : "even" } })),
        { ids, upsert: upsertIds.length > 0 },
      );
      for (const [i, id] of ids.entries()) {
        const at = live.findIndex((doc) => doc.id === id);
        if (at >= 0) live.splice(at, 1); // an upsert removes the held one, then adds the new one last
        live.push({ id, tokens: analyzer.analyze(batch[i]), parity: i % 2 ? "odd" : "even" });
      }
    };
    await add(150);
    expectSame(index, live, {});
    await add(60); // avgdl, N and every df change: nothing precomputed may go stale
    expectSame(index, live, {});
    const gone = live.filter(() => random() < 0.3).map((doc) => doc.id);
    await index.delete({ ids: gone });
    for (const id of gone)
      live.splice(
        live.findIndex((doc) => doc.id === id),
        1,
      );
    expectSame(index, live, {});
    await add(40, [live[0].id, live[5].id, live[90].id, "doc-new-1"]);
    expectSame(index, live, {});
    expect(index.size).toBe(live.length);
    // a metadata filter on the dense path is the formula's ranking restricted to the passing documents
    const even = (d: number) => live[d].parity === "even";
    expect(index.search("tide moon", 10, { parity: "even" })).toEqual(
      referenceRanking(live, "tide moon", 10, { keep: even }),
    );
    const recalled = await index.recall("tide moon", 10, (doc) => doc.metadata.parity === "odd");
    expect(recalled.map((c) => [c.document.id, c.score])).toEqual(
      referenceRanking(live, "tide moon", 10, { keep: (d) => !even(d) }).map(([d, s]) => [live[d].id, s]),
    );
  });

  test("a filter that throws mid-pass leaves no stale scores behind (both paths)", async () => {
    const texts = randomTexts(11, 200);
    const index = await Bm25Index.fromTexts(texts);
    const docs = texts.map((text, i) => ({ id: String(i), tokens: analyzer.analyze(text), parity: "" }));
    for (const query of ["tide moon", RARE[3]]) {
      let calls = 0;
      const boom = () => {
        calls += 1;
        if (calls === 2) throw new Error("filter failed");
        return true;
      };
      await expect(index.recall(query, 10, boom)).rejects.toThrow("filter failed");
      expectSame(index, docs, {});
    }
  });
});
