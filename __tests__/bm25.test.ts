import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import {
  Bm25Index,
  ENGLISH_STOP_WORDS,
  EnglishAnalyzer,
  IndexError,
  InvalidArgumentError,
  type TextAnalyzer,
} from "../src/index.js";
import { standardTokenize } from "../src/recall/bm25/standard_tokenizer.js";
import { seededRandom } from "./support/random.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bm25-test-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// An independent brute-force BM25, written from the formula over the analyzer's tokens: every document scored.
// ---------------------------------------------------------------------------------------------------------------

/** Lucene's decoded one-byte lengths (SmallFloat.byte4ToInt), built from its definition. */
const LUCENE_LENGTHS = Array.from({ length: 256 }, (_, byte) => {
  if (byte < 24) return byte;
  const bits = (byte - 24) & 7;
  const shift = ((byte - 24) >> 3) - 1;
  return 24 + (shift < 0 ? bits : (bits | 8) * 2 ** shift);
});
/** intToByte4 keeps the high bits: the stored length is the largest table value not above the true length. */
const luceneLength = (length: number): number => {
  let best = 0;
  for (const value of LUCENE_LENGTHS) if (value <= length) best = value;
  return best;
};

function bruteForce(
  docTokens: string[][],
  queryTokens: string[],
  k1: number,
  b: number,
  quantize: boolean,
): Map<number, number> {
  const nonEmpty = docTokens.filter((t) => t.length > 0);
  const N = nonEmpty.length;
  const avgdl = nonEmpty.reduce((sum, t) => sum + t.length, 0) / N;
  const scores = new Map<number, number>();
  const queryCounts = new Map<string, number>();
  for (const t of queryTokens) queryCounts.set(t, (queryCounts.get(t) ?? 0) + 1);
  for (const [term, qtf] of queryCounts) {
    const n = docTokens.filter((tokens) => tokens.includes(term)).length;
    if (n === 0) continue;
    const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5));
    docTokens.forEach((tokens, d) => {
      const tf = tokens.filter((t) => t === term).length;
      if (tf === 0) return;
      const dl = quantize ? luceneLength(tokens.length) : tokens.length;
      const part = (qtf * idf * tf) / (tf + k1 * (1 - b + (b * dl) / avgdl));
      scores.set(d, (scores.get(d) ?? 0) + part);
    });
  }
  return scores;
}

const WORDS = [
  "glacier",
  "glaciers",
  "moraine",
  "erosion",
  "eroding",
  "crevasse",
  "tide",
  "tides",
  "moon",
  "yeast",
  "bread",
  "running",
  "runner's",
  "the",
  "of",
  "and",
  "Ice",
  "ICE",
  "café",
  "naïve",
  "42",
  "3.14",
];

function randomCorpus(seed: number, docs: number, maxLength: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: docs }, () => {
    const length = random() < 0.15 ? 0 : Math.floor(random() * maxLength);
    // skewed word choice: low indexes repeat often (repeated terms), high ones are rare
    return Array.from({ length }, () => WORDS[Math.floor(random() * random() * WORDS.length)]).join(" ");
  });
}

function expectMatchesBruteForce(results: [number, number][], expected: Map<number, number>): void {
  expect(results).toHaveLength(expected.size);
  for (const [d, score] of results) {
    const want = expected.get(d);
    expect(want).toBeDefined();
    expect(Math.abs(score - want!) / want!).toBeLessThanOrEqual(1e-9);
  }
  for (let i = 1; i < results.length; i++) {
    const [prevDoc, prevScore] = results[i - 1];
    const [doc, score] = results[i];
    expect(prevScore > score || (prevScore === score && prevDoc < doc)).toBe(true);
  }
}

describe("Bm25Index scores", () => {
  test("equal an independent brute-force BM25 (rel. error <= 1e-9) on random corpora, both length modes", async () => {
    const analyzer = new EnglishAnalyzer();
    let checkedQueries = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(1000 + seed);
      const texts = randomCorpus(seed, 1 + Math.floor(random() * 60), seed % 3 === 0 ? 300 : 40);
      const k1 = seed % 4 === 0 ? 0.9 : Math.round(random() * 2000) / 1000;
      const b = seed % 4 === 0 ? 0.4 : Math.round(random() * 1000) / 1000;
      const quantize = seed % 2 === 0;
      const index = await Bm25Index.fromTexts(texts, {}, { k1, b, luceneLengthQuantization: quantize });
      const docTokens = texts.map((t) => analyzer.analyze(t));
      for (let q = 0; q < 8; q++) {
        const words = Array.from(
          { length: 1 + Math.floor(random() * 5) },
          () => WORDS[Math.floor(random() * WORDS.length)],
        );
        const query = [...words, "unseenword"].join(" "); // a query term that is in no document
        const results = index.search(query, texts.length + 5);
        expectMatchesBruteForce(results, bruteForce(docTokens, analyzer.analyze(query), k1, b, quantize));
        checkedQueries += 1;
      }
    }
    expect(checkedQueries).toBe(96);
  });

  test("a one-document corpus, empty documents, repeated query terms and a term in no document", async () => {
    const one = await Bm25Index.fromTexts(["tides follow the moon"]);
    const [hit] = await one.recall("moon", 5);
    // N = 1, n = 1: idf = ln(1 + 0.5/1.5); dl = avgdl = 3, so the length norm is k1
    expect(hit.score).toBeCloseTo((Math.log(1 + 0.5 / 1.5) * 1) / (1 + 0.9), 12);
    expect(await one.recall("yeast", 5)).toEqual([]);
    const repeated = await one.recall("moon moon", 5);
    expect(repeated[0].score).toBeCloseTo(2 * hit.score, 12);

    const empty = await Bm25Index.fromTexts(["", "   ", "!!!"]);
    expect(empty.size).toBe(3);
    expect(await empty.recall("anything", 3)).toEqual([]);

    const stopOnly = await Bm25Index.fromTexts(["the tide", "a moon"]);
    expect(await stopOnly.recall("the of and", 2)).toEqual([]);
  });

  test("length quantization follows Lucene's byte: exact below 24 tokens, 4 significant bits above", async () => {
    // 1 long document (100 tokens → Lucene scores it as 96) and 1 short one sharing the term.
    const long = ["tide", ...Array.from({ length: 99 }, (_, i) => `filler${i}x`)].join(" ");
    const texts = [long, "tide moon"];
    const exact = await Bm25Index.fromTexts(texts, {}, { luceneLengthQuantization: false });
    const lucene = await Bm25Index.fromTexts(texts, {}, { luceneLengthQuantization: true });
    const tokens = texts.map((t) => new EnglishAnalyzer().analyze(t));
    expect(tokens[0]).toHaveLength(100);
    expectMatchesBruteForce(exact.search("tide", 2), bruteForce(tokens, ["tide"], 0.9, 0.4, false));
    expectMatchesBruteForce(lucene.search("tide", 2), bruteForce(tokens, ["tide"], 0.9, 0.4, true));
    expect(luceneLength(100)).toBe(96);
    expect(lucene.search("tide", 2)[1][1]).toBeGreaterThan(exact.search("tide", 2)[1][1]);
  });

  test("top-k is the head of the full ranking; ties go to the earlier document", async () => {
    const texts = randomCorpus(77, 200, 30);
    const index = await Bm25Index.fromTexts(texts);
    const full = index.search("glacier tide moon", 10_000);
    for (const k of [1, 3, 10, 50]) expect(index.search("glacier tide moon", k)).toEqual(full.slice(0, k));
    const twins = await Bm25Index.fromTexts(["moon tide", "other words", "moon tide", "moon tide"]);
    expect(twins.search("moon", 3).map(([d]) => d)).toEqual([0, 2, 3]);
  });

  test("adding in several batches ranks as one build", async () => {
    const texts = randomCorpus(5, 90, 30);
    const whole = await Bm25Index.fromTexts(texts);
    const parts = new Bm25Index();
    await parts.addDocuments(texts.slice(0, 30).map((t) => new Document({ pageContent: t })));
    await parts.recall("glacier", 3); // compacts between batches
    await parts.addDocuments(texts.slice(30, 31).map((t) => new Document({ pageContent: t })));
    await parts.addDocuments(texts.slice(31).map((t) => new Document({ pageContent: t })));
    for (const q of ["glacier moraine", "tide tides moon", "ice café"]) {
      expect(parts.search(q, 100)).toEqual(whole.search(q, 100));
    }
    expect(parts.postingCount).toBe(whole.postingCount);
  });

  test("recall returns new Documents with ids and metadata copies; inputs are not mutated", async () => {
    const docs = [
      new Document({ pageContent: "tides follow the moon", metadata: { topic: "sea" }, id: "a" }),
      new Document({ pageContent: "bread needs yeast", metadata: { topic: "food" } }),
    ];
    const before = JSON.stringify(docs);
    const index = await Bm25Index.fromDocuments(docs);
    const [hit] = await index.recall("moon", 1);
    expect(hit.document.id).toBe("a");
    expect(hit.document.metadata).toEqual({ topic: "sea" });
    hit.document.metadata.topic = "changed";
    expect((await index.recall("moon", 1))[0].document.metadata.topic).toBe("sea");
    expect(JSON.stringify(docs)).toBe(before);
  });

  test("bad arguments are refused with a named value", async () => {
    const index = await Bm25Index.fromTexts(["tides follow the moon"]);
    await expect(index.recall("moon", 0)).rejects.toThrow(InvalidArgumentError);
    await expect(index.recall("moon", 1.5)).rejects.toThrow(/k must be a positive integer; got 1.5/);
    await expect(index.recall("moon", undefined as unknown as number)).rejects.toThrow(InvalidArgumentError);
    await expect(index.recall("  ", 1)).rejects.toThrow(/query must be a non-empty string/);
    await expect(index.recall("moon", 1, 42 as unknown as Record<string, unknown>)).rejects.toThrow(/filter/);
    expect(() => new Bm25Index({ k1: -1 })).toThrow(/k1 must be a finite number >= 0; got -1/);
    expect(() => new Bm25Index({ b: 1.5 })).toThrow(/b must be a number from 0 to 1; got 1.5/);
    await expect(index.addDocuments([{ pageContent: 3 } as unknown as Document])).rejects.toThrow(/pageContent/);
  });
});

describe("EnglishAnalyzer", () => {
  // Expected terms produced by Lucene 8.7.0's org.apache.lucene.analysis.en.EnglishAnalyzer (default settings).
  const LUCENE_CASES: [string, string][] = [
    ["The U.S. cost 1,000.50 $ — don't (IL-6)!", "u. cost 1,000.50 don't il 6"],
    [
      "The Runner's shoes were running faster than the dogs' owners’ cars",
      "runner shoe were run faster than dog owner car",
    ],
    [
      "naïve café résumé Ångström Straße İstanbul ΣΑΣ Σίσυφος’s",
      "naïv café résumé ångström straße istanbul σασ σίσυφος",
    ],
    [
      "東京タワーです ひらがな カタカナ 한국어 텍스트 ไทยภาษา ລາວ",
      "東 京 タワー で す ひ ら が な カタカナ 한국어 텍스트 ไทยภาษา ລາວ",
    ],
    ["👍🏽 👨‍👩‍👧 ❤️ © ® ™ ↔ ☃ 🇫🇷 #1 *", "👍🏽 👨‍👩‍👧 ❤️ © ® ™ ↔ ☃ 🇫🇷 1"],
    [
      "foo_bar __init__ snake_case_42 e.g. i.e., p<0.05 3.14 1,000,000 10:30 x:y a.b.c",
      "foo_bar __init__ snake_case_42 e.g i. p 0.05 3.14 1,000,000 10 30 x:y a.b.c",
    ],
    [
      "TNF-α β2-adrenergic IL-1β CD4+ T-cells Ca2+ H2O COVID-19 SARS-CoV-2 mRNA-1273",
      "tnf α β2 adrenerg il 1β cd4 t cell ca2 h2o covid 19 sar cov 2 mrna 1273",
    ],
    ["It's JOHN'S book; the ’s alone; O'Neil's cat; rock'n'roll", "john book s alon o'neil cat rock'n'rol"],
    [
      "Generalization relational conditional hopefulness eed feed agreed caresses ponies ties",
      "gener relat condit hope eed feed agre caress poni ti",
    ],
    [
      "Arabic: مرحبا بالعالم Hebrew: שלום עולם ״ Devanagari: नमस्ते Cyrillic: Привет мир",
      "arab مرحبا بالعالم hebrew שלום עולם devanagari नमस्ते cyril привет мир",
    ],
    [ENGLISH_STOP_WORDS.join(" "), ""],
  ];

  test.each(LUCENE_CASES)("%s", (text, expected) => {
    expect(new EnglishAnalyzer().analyze(text).join(" ")).toBe(expected);
  });

  test("possessives, stop words, stemming and Unicode splitting, one by one", () => {
    const analyzer = new EnglishAnalyzer();
    expect(analyzer.analyze("Moon's MOON’S moon＇s moons' moons")).toEqual(["moon", "moon", "moon", "moon", "moon"]);
    expect(ENGLISH_STOP_WORDS).toHaveLength(33);
    expect(analyzer.analyze("The tide IS in")).toEqual(["tide"]);
    expect(analyzer.analyze("relational generalizations")).toEqual(["relat", "gener"]);
    expect(standardTokenize("well-known 2,5-dimethyl e.g. café’s")).toEqual([
      "well",
      "known",
      "2,5",
      "dimethyl",
      "e.g",
      "café’s",
    ]);
    expect(standardTokenize("x".repeat(600))).toEqual(["x".repeat(255), "x".repeat(255), "x".repeat(90)]);
  });

  test("options change the terms and the name", () => {
    expect(new EnglishAnalyzer().name).toBe("english");
    const plain = new EnglishAnalyzer({ stem: false, stopWords: [] });
    expect(plain.analyze("The running tides")).toEqual(["the", "running", "tides"]);
    expect(plain.name).toBe("english(stop=;nostem)");
    expect(() => new EnglishAnalyzer({ maxTokenLength: 0 })).toThrow(InvalidArgumentError);
  });
});

describe("Bm25Index filters and ids", () => {
  test("operator objects ({ year: { $gt: 2020 } }) are refused with what BM25 filters support, never matched silently", async () => {
    const index = await Bm25Index.fromTexts(["the moon pulls tides", "moon phases"], [{ year: 2021 }, { year: 2019 }]);
    await expect(index.recall("moon", 2, { year: { $gt: 2020 } })).rejects.toThrow(
      /^BM25 filter field 'year' is \{"\$gt":2020\}: Bm25Index filters support only equality on metadata values .*or a predicate \(doc\) => boolean\. For operators, pass a predicate, e\.g\. \(doc\) => doc\.metadata\.year > 2020\.$/,
    );
    await expect(index.recall("moon", 2, { tags: ["a"] })).rejects.toThrow(/field 'tags' is \["a"\]/);
    expect((await index.recall("moon", 2, { year: 2021 })).map((c) => c.document.metadata.year)).toEqual([2021]);
    expect((await index.recall("moon", 2, (doc) => (doc.metadata.year as number) > 2020)).length).toBe(1);
  });

  const docs = Array.from(
    { length: 40 },
    (_, i) =>
      new Document({
        pageContent: `tide report ${i} ${"moon ".repeat(1 + (i % 5))}`,
        metadata: { parity: i % 2 === 0 ? "even" : "odd", i },
      }),
  );

  test("metadata-equality and predicate filters apply before the top k, never ignored", async () => {
    const index = await Bm25Index.fromDocuments(docs);
    const unfiltered = await index.recall("moon", 5);
    expect(unfiltered.some((c) => c.document.metadata.parity === "odd")).toBe(true);
    const even = await index.recall("moon", 5, { parity: "even" });
    expect(even).toHaveLength(5);
    expect(even.every((c) => c.document.metadata.parity === "even")).toBe(true);
    const all = index.search("moon", 100).filter(([d]) => d % 2 === 0);
    expect(even.map((c) => c.score)).toEqual(all.slice(0, 5).map(([, s]) => s));

    const predicate = await index.recall("moon", 3, (doc) => (doc.metadata.i as number) >= 35);
    expect(predicate.every((c) => (c.document.metadata.i as number) >= 35)).toBe(true);
    expect(predicate).toHaveLength(3);

    expect(await index.recall("moon", 5, { parity: "none" })).toEqual([]);
    // a predicate gets copies: mutating them changes nothing
    await index.recall("moon", 5, (doc) => {
      doc.metadata.parity = "mutated";
      return true;
    });
    expect((await index.recall("moon", 40, { parity: "mutated" })).length).toBe(0);
  });

  test("ids: options.ids, else doc.id, else UUIDs; a duplicate is refused before anything changes", async () => {
    const index = new Bm25Index();
    const ids = await index.addDocuments(
      [new Document({ pageContent: "tide one", id: "own" }), new Document({ pageContent: "tide two" })],
      { ids: ["x1", "x2"] },
    );
    expect(ids).toEqual(["x1", "x2"]);
    const more = await index.addDocuments([
      new Document({ pageContent: "tide three", id: "own" }),
      new Document({ pageContent: "tide four" }),
    ]);
    expect(more[0]).toBe("own");
    expect(more[1]).toMatch(/^[0-9a-f-]{36}$/);
    const before = index.search("tide", 10);
    await expect(
      index.addDocuments([new Document({ pageContent: "tide five" }), new Document({ pageContent: "x", id: "x2" })]),
    ).rejects.toThrow(InvalidArgumentError); // a taken id is a bad argument, as in FaissVectorStore (IndexError before 0.3)
    await expect(
      index.addDocuments([new Document({ pageContent: "a", id: "d" }), new Document({ pageContent: "b", id: "d" })]),
    ).rejects.toThrow(/Document id 'd' appears twice in this batch/);
    await expect(index.addDocuments([new Document({ pageContent: "a" })], { ids: [] })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(index.size).toBe(4);
    expect(index.search("tide", 10)).toEqual(before);
  });

  test("an analyzer that throws mid-batch leaves the index as it was", async () => {
    let calls = 0;
    const flaky: TextAnalyzer = {
      name: "flaky",
      analyze: (text) => {
        calls += 1;
        if (calls === 4) throw new Error("boom");
        return text.split(" ");
      },
    };
    const index = await Bm25Index.fromTexts(["a b", "b c"], {}, { analyzer: flaky });
    const before = index.search("b", 10);
    await expect(index.addDocuments([new Document({ pageContent: "b d" })])).rejects.toThrow("boom");
    expect(index.size).toBe(2);
    expect(index.search("b", 10)).toEqual(before);
  });
});

describe("Bm25Index persistence", () => {
  const texts = randomCorpus(9, 120, 50);

  test("save/load round trip gives equal results, with the saved parameters", async () => {
    const index = await Bm25Index.fromTexts(
      texts,
      texts.map((_, i) => ({ i })),
      { k1: 1.2, b: 0.75 },
    );
    const dir = path.join(scratch, "roundtrip");
    await index.save(dir);
    // The crash-safe layout: the folder's lock, a manifest naming one versioned data folder (marked as ours), which
    // holds the four files, each checksummed in the manifest.
    const [lock, data, manifest] = fs.readdirSync(dir).sort();
    expect([lock, manifest]).toEqual([".two-stage.lock", "two-stage.json"]);
    const entry = JSON.parse(fs.readFileSync(path.join(dir, manifest), "utf8")).bm25;
    expect(entry.data).toBe(data);
    expect(Object.keys(entry.checksums).sort()).toEqual([
      "bm25.docstore.jsonl",
      "bm25.json",
      "bm25.postings.bin",
      "bm25.terms.json",
    ]);
    expect(fs.readdirSync(path.join(dir, data)).sort()).toEqual([
      ".two-stage-owner",
      "bm25.docstore.jsonl",
      "bm25.json",
      "bm25.postings.bin",
      "bm25.terms.json",
    ]);
    const loaded = await Bm25Index.load(dir);
    expect([loaded.k1, loaded.b, loaded.size, loaded.vocabularySize]).toEqual([1.2, 0.75, 120, index.vocabularySize]);
    for (const q of ["glacier moraine", "tide moon", "ice café naïve"]) {
      expect(await loaded.recall(q, 20, { i: 3 })).toEqual(await index.recall(q, 20, { i: 3 }));
      expect(await loaded.recall(q, 50)).toEqual(await index.recall(q, 50));
    }
    await loaded.addDocuments([new Document({ pageContent: "glacier glacier" })]);
    expect(loaded.size).toBe(121);
    await index.save(dir); // replacing our own folder is fine
    expect((await Bm25Index.load(dir)).size).toBe(120);
  });

  test("save refuses a folder holding other files; load refuses another analyzer", async () => {
    const index = await Bm25Index.fromTexts(texts);
    const foreign = path.join(scratch, "foreign");
    fs.mkdirSync(foreign, { recursive: true });
    fs.writeFileSync(path.join(foreign, "notes.txt"), "mine");
    await expect(index.save(foreign)).rejects.toThrow(/not empty and is not an index \(it holds notes.txt\)/);
    expect(fs.readFileSync(path.join(foreign, "notes.txt"), "utf8")).toBe("mine");
    const dir = path.join(scratch, "analyzer");
    await index.save(dir);
    await expect(Bm25Index.load(dir, { analyzer: new EnglishAnalyzer({ stem: false }) })).rejects.toThrow(
      /built with the analyzer 'english'/,
    );
  });

  const corruptions: [string, (dir: string) => void][] = [
    ["a missing file", (dir) => fs.rmSync(path.join(dir, "bm25.terms.json"))],
    ["a truncated postings file", (dir) => truncate(path.join(dir, "bm25.postings.bin"), 10)],
    ["a manifest that is not JSON", (dir) => fs.writeFileSync(path.join(dir, "bm25.json"), "{oops")],
    ["a manifest with a wrong count", (dir) => editManifest(dir, (m) => ({ ...m, documents: 7 }))],
    ["a posting naming no document", (dir) => patchUint32(dir, "bm25.postings.bin", "firstPosting", 0xffffff)],
    ["term offsets out of order", (dir) => patchUint32(dir, "bm25.postings.bin", "offset1", 0xffffffff)],
    ["a docstore missing a line", (dir) => dropLastLine(path.join(dir, "bm25.docstore.jsonl"))],
    ["a docstore line that is not JSON", (dir) => fs.appendFileSync(path.join(dir, "bm25.docstore.jsonl"), "{")],
    ["terms of the wrong count", (dir) => fs.writeFileSync(path.join(dir, "bm25.terms.json"), '["a"]')],
  ];

  test.each(corruptions)("%s is an IndexError, not a crash", async (_, corrupt) => {
    const index = await Bm25Index.fromTexts(texts);
    const dir = fs.mkdtempSync(path.join(scratch, "corrupt-"));
    index.writeFiles(dir);
    corrupt(dir);
    await expect(Bm25Index.load(dir)).rejects.toThrow(IndexError);
  });
});

function truncate(file: string, bytes: number): void {
  const data = fs.readFileSync(file);
  fs.writeFileSync(file, data.subarray(0, data.length - bytes));
}

function editManifest(dir: string, edit: (m: Record<string, unknown>) => Record<string, unknown>): void {
  const file = path.join(dir, "bm25.json");
  fs.writeFileSync(file, JSON.stringify(edit(JSON.parse(fs.readFileSync(file, "utf8")))));
}

function patchUint32(dir: string, name: string, where: "firstPosting" | "offset1", value: number): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "bm25.json"), "utf8")) as { terms: number };
  const file = path.join(dir, name);
  const data = fs.readFileSync(file);
  const at = where === "offset1" ? 8 + 4 : 8 + 4 * (manifest.terms + 1);
  data.writeUInt32LE(value, at);
  fs.writeFileSync(file, data);
}

function dropLastLine(file: string): void {
  const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
  fs.writeFileSync(file, `${lines.slice(0, -1).join("\n")}\n`);
}
