// Ours vs Anserini, list by list: per query, whether the top-10 and top-100 id lists are equal. Writes every
// differing rank (ids, both sides' scores) to compare.txt and prints the summary.
import fs from "node:fs";
import path from "node:path";

import { type LuceneRun, outDir, readJson, type Run } from "./shared.js";

const out = outDir();
const ours = readJson<Run>(out, "ours_run.json");
const lucene = readJson<LuceneRun>(out, "lucene_run.json");
const ids = (list: [string, number][]) => list.map(([id]) => id);

const top10Differs: string[] = [];
let top100Differs = 0;
let setsDiffer = 0;
let simpleVsRaw = 0;
let maxRelative = 0;
const detail: string[] = [];
for (const qid of Object.keys(ours)) {
  const o = ids(ours[qid].slice(0, 100));
  const s = ids(lucene.simple[qid]);
  if (s.join() !== ids(lucene.raw[qid].slice(0, 100)).join()) simpleVsRaw++;
  const oursScore = new Map(ours[qid]);
  const rawScore = new Map(lucene.raw[qid].map(([id, score]) => [id, score]));
  for (const [id, score] of ours[qid].slice(0, 100)) {
    const l = rawScore.get(id);
    if (l !== undefined) maxRelative = Math.max(maxRelative, Math.abs(score - l) / l);
  }
  const differs10 = o.slice(0, 10).join() !== s.slice(0, 10).join();
  if (differs10) top10Differs.push(qid);
  if (o.join() === s.join()) continue;
  top100Differs++;
  if (o.length !== s.length || new Set([...o, ...s]).size !== o.length) setsDiffer++;
  const lines: string[] = [];
  for (let i = 0; i < Math.max(o.length, s.length); i++) {
    if (o[i] === s[i]) continue;
    const [a, b] = [o[i], s[i]];
    lines.push(
      `   rank ${i + 1}: ours ${a} (ours ${oursScore.get(a)}, lucene ${rawScore.get(a)}) | ` +
        `anserini ${b} (ours ${oursScore.get(b)}, lucene ${rawScore.get(b)})`,
    );
  }
  detail.push(`query ${qid}${differs10 ? " [TOP-10 DIFFERS]" : ""}: ${lines.length} ranks differ\n${lines.join("\n")}`);
}
fs.writeFileSync(path.join(out, "compare.txt"), detail.join("\n") + "\n");
const n = Object.keys(ours).length;
console.log(`Lucene ${lucene.lucene}; ${n} queries; details in compare.txt`);
console.log(`top-10 id lists differ: ${top10Differs.length}/${n} (query ${top10Differs.join(", ") || "none"})`);
console.log(`top-100 id lists differ: ${top100Differs}/${n}; top-100 id sets differ: ${setsDiffer}`);
console.log(`SimpleSearcher list != raw IndexSearcher (score, id) list: ${simpleVsRaw} queries`);
console.log(`max relative |ours - lucene| over shared top-100 hits: ${maxRelative.toExponential(3)}`);
