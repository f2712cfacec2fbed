// Analyzer and index statistics, ours vs Lucene (lucene_tokens.json from `LuceneSide.java <out> tokens`): the terms
// of every SciFact document and test query, each document's norm byte (ours: lengthToByte(term count)), every
// term's document frequency.
import { documentText, loadBeirDataset } from "../../src/eval/beir_dataset.js";
import { EnglishAnalyzer } from "../../src/recall/bm25/english_analyzer.js";
import { lengthToByte } from "../../src/recall/bm25/small_float.js";
import { outDir, readJson, SCIFACT_DIR } from "./shared.js";

interface LuceneTokens {
  docs: Record<string, string[]>;
  norms: Record<string, number>;
  queries: Record<string, string[]>;
  df: Record<string, number>;
}

const lucene = readJson<LuceneTokens>(outDir(), "lucene_tokens.json");
const data = loadBeirDataset(SCIFACT_DIR);
const analyzer = new EnglishAnalyzer();
const same = (a: string[], b: string[] | undefined) => b !== undefined && a.join(" ") === b.join(" ");

let docDiff = 0;
let normDiff = 0;
const df = new Map<string, number>();
for (const d of data.corpus) {
  const terms = analyzer.analyze(documentText(d));
  for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  if (!same(terms, lucene.docs[d.id])) {
    docDiff++;
    console.log(`doc ${d.id}: ours ${terms.length} terms, lucene ${lucene.docs[d.id]?.length}`);
  }
  if (lengthToByte(terms.length) !== lucene.norms[d.id]) normDiff++;
}
let queryDiff = 0;
for (const q of data.queries) {
  const terms = analyzer.analyze(q.text);
  if (!same(terms, lucene.queries[q.id])) {
    queryDiff++;
    console.log(`query ${q.id}: ours ${JSON.stringify(terms)} lucene ${JSON.stringify(lucene.queries[q.id])}`);
  }
}
let dfDiff = 0;
for (const t of new Set([...df.keys(), ...Object.keys(lucene.df)])) {
  if ((df.get(t) ?? 0) !== (lucene.df[t] ?? 0)) dfDiff++;
}
console.log(
  `analyzer: term streams differ for ${docDiff}/${data.corpus.length} documents and ${queryDiff}/${data.queries.length} ` +
    `queries; norm bytes differ for ${normDiff}; vocabulary ours ${df.size}, lucene ${Object.keys(lucene.df).length}, ` +
    `df differs for ${dfDiff} terms`,
);
