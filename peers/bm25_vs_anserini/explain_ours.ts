// Ours, token by token, for one query and some documents:
//   npx tsx peers/bm25_vs_anserini/explain_ours.ts <out> <qid> <docid> [<docid> ...]
// The query's terms, N, avgdl, df and idf per term; per document its corpus line, term count, quantised length and
// norm byte, tf per query term, each term's weight and the float64 sum (the formula of Bm25Index's doc comment),
// and the document's rank in ours_run.json and in Anserini's list (lucene_run.json).
import { documentText, loadBeirDataset } from "../../src/eval/beir_dataset.js";
import { EnglishAnalyzer } from "../../src/recall/bm25/english_analyzer.js";
import { lengthToByte, quantizedLength } from "../../src/recall/bm25/small_float.js";
import { type LuceneRun, outDir, readJson, type Run, SCIFACT_DIR } from "./shared.js";

const K1 = 0.9;
const B = 0.4;
const out = outDir();
const [qid, ...docIds] = process.argv.slice(3);
const data = loadBeirDataset(SCIFACT_DIR);
const query = data.queries.find((q) => q.id === qid);
if (!query || docIds.length === 0) {
  throw new Error(
    `Expected <out> <qid> <docid>...: a SciFact test query id and document ids; got ${process.argv.slice(3).join(" ")}.`,
  );
}
const analyzer = new EnglishAnalyzer();
const docTerms = data.corpus.map((d) => analyzer.analyze(documentText(d)));
const N = docTerms.filter((t) => t.length > 0).length;
const totalLength = docTerms.reduce((a, t) => a + t.length, 0);
const avgdl = totalLength / N;
const queryTerms = analyzer.analyze(query.text);
console.log(`query ${qid}: ${query.text}\nours tokens: [${queryTerms.join(", ")}]`);
console.log(`N=${N} sum of lengths=${totalLength} avgdl=${avgdl}`);

const counts = new Map<string, number>();
for (const t of queryTerms) counts.set(t, (counts.get(t) ?? 0) + 1);
const idf = new Map<string, number>();
for (const t of [...counts.keys()].sort()) {
  const df = docTerms.filter((terms) => terms.includes(t)).length;
  idf.set(t, Math.log(1 + (N - df + 0.5) / (df + 0.5)));
  console.log(
    `  term ${t.padEnd(16)} df=${df} idf=${idf.get(t)} (float32 ${Math.fround(idf.get(t)!)}) query count ${counts.get(t)}`,
  );
}

const ours = readJson<Run>(out, "ours_run.json")[qid];
const anserini = readJson<LuceneRun>(out, "lucene_run.json").simple[qid];
const rank = (run: [string, number][], id: string) => run.findIndex(([d]) => d === id) + 1 || "-";
for (const id of docIds) {
  const i = data.corpus.findIndex((d) => d.id === id);
  if (i < 0) throw new Error(`Document ${id} is not in ${SCIFACT_DIR}/corpus.jsonl; pass SciFact document ids.`);
  const terms = docTerms[i];
  const dl = quantizedLength(terms.length);
  const norm = K1 * (1 - B + (B * dl) / avgdl);
  let score = 0;
  const parts: string[] = [];
  for (const [t, c] of counts) {
    const tf = terms.filter((x) => x === t).length;
    if (tf === 0) continue;
    const w = (c * idf.get(t)! * tf) / (tf + norm);
    score += w;
    parts.push(`${t} tf=${tf} -> ${w}`);
  }
  console.log(
    `doc ${id} corpus line ${i + 1}: ${terms.length} terms, quantised dl ${dl} (norm byte ${lengthToByte(terms.length)}); ` +
      `${parts.join("; ")}; score ${score} (float32 ${Math.fround(score)}); rank ours ${rank(ours, id)}, Anserini ${rank(anserini, id)}`,
  );
}
