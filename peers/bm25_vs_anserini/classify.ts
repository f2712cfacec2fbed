// Every pair of documents that ours and Anserini order differently within the union of their two top-100 lists,
// by cause (scores from both sides' top-1000 lists):
//   tie      equal scores on both sides (ours float64, Lucene float32): only the tie-break differs
//            (ours: insertion order = corpus order; Anserini: the id string ascending)
//   f32-tie  ours' float64 scores differ, Lucene's float32 scores are equal: Anserini's id tie-break decides
//   f32-flip both sides' scores differ, in opposite directions (float32 rounding)
//   other    anything else (an analyzer or statistics difference would land here)
// Also the float32 ulps between Math.fround(ours) and Lucene's score over every shared (query, doc) pair.
import { loadBeirDataset } from "../../src/eval/beir_dataset.js";
import { type LuceneRun, outDir, readJson, type Run, SCIFACT_DIR } from "./shared.js";

const out = outDir();
const ours = readJson<Run>(out, "ours_run.json");
const lucene = readJson<LuceneRun>(out, "lucene_run.json");
const corpusOrder = new Map(loadBeirDataset(SCIFACT_DIR).corpus.map((d, i) => [d.id, i]));
const position = (id: string) => corpusOrder.get(id) ?? Infinity;

const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);
function float32Bits(x: number): number {
  f32[0] = x;
  return f32Bits[0];
}

function cause(ox: number, oy: number, lx: number, ly: number): string {
  if (ox === oy && lx === ly) return "tie";
  if (ox !== oy && lx === ly) return "f32-tie";
  if (ox !== oy && lx !== ly && ox > oy !== lx > ly) return "f32-flip";
  return "other";
}

const pairsByCause: Record<string, number> = {};
const queriesByCause: Record<string, number> = {};
const examples: Record<string, string> = {};
const ulps: Record<number, number> = {};
let compared = 0;
for (const qid of Object.keys(ours)) {
  const o = new Map(ours[qid]);
  const l = new Map(lucene.raw[qid].map(([id, score]) => [id, score]));
  for (const [id, score] of o) {
    const ls = l.get(id);
    if (ls === undefined) continue;
    compared++;
    const u = Math.abs(float32Bits(score) - float32Bits(ls));
    ulps[u] = (ulps[u] ?? 0) + 1;
  }
  const o100 = ours[qid].slice(0, 100).map(([id]) => id);
  const l100 = lucene.simple[qid].map(([id]) => id);
  if (o100.join() === l100.join()) continue;
  const union = [...new Set([...o100, ...l100])];
  const causes = new Set<string>();
  for (let i = 0; i < union.length; i++) {
    for (let j = i + 1; j < union.length; j++) {
      const [x, y] = [union[i], union[j]];
      const [ox, oy, lx, ly] = [o.get(x), o.get(y), l.get(x), l.get(y)];
      if (ox === undefined || oy === undefined || lx === undefined || ly === undefined) {
        throw new Error(
          `query ${qid}: no score for ${x} or ${y} in a top-1000 list; raise k in ours.ts and LuceneSide.java`,
        );
      }
      const oursFirst = ox > oy || (ox === oy && position(x) < position(y));
      const anseriniFirst = lx > ly || (lx === ly && x < y);
      if (oursFirst === anseriniFirst) continue;
      const c = cause(ox, oy, lx, ly);
      pairsByCause[c] = (pairsByCause[c] ?? 0) + 1;
      causes.add(c);
      examples[c] ??= `query ${qid}: ${x} ours ${ox} lucene ${lx} / ${y} ours ${oy} lucene ${ly}`;
    }
  }
  for (const c of causes) queriesByCause[c] = (queriesByCause[c] ?? 0) + 1;
}
const causes = Object.keys(pairsByCause).sort();
console.log(
  `pairs ordered differently (union of the top-100s), by cause: ` +
    (causes.map((c) => `${c} ${pairsByCause[c]} pairs in ${queriesByCause[c]} queries`).join("; ") || "none"),
);
for (const c of causes) console.log(`  e.g. ${c}: ${examples[c]}`);
console.log(`float32 ulps between Math.fround(ours) and Lucene over ${compared} shared pairs: ${JSON.stringify(ulps)}`);
