// What-if: re-sort ours' own top 1000 with Anserini's tie rule (score descending, then the id string ascending),
// with ours' float64 scores and with them rounded to float32, and count the queries whose top-10 / top-100 id lists
// then equal Anserini's. Also nDCG@10 and Recall@100 of both live runs at full precision.
import { loadBeirDataset } from "../../src/eval/beir_dataset.js";
import { mean, ndcgAt, recallAt } from "../../src/eval/metrics.js";
import { anseriniOrder, type LuceneRun, outDir, readJson, type Run, SCIFACT_DIR } from "./shared.js";

const out = outDir();
const ours = readJson<Run>(out, "ours_run.json");
const anserini = readJson<LuceneRun>(out, "lucene_run.json").simple;
const data = loadBeirDataset(SCIFACT_DIR);
const n = Object.keys(ours).length;

for (const [label, round] of [
  ["float64", (x: number) => x],
  ["float32", Math.fround],
] as const) {
  let same10 = 0;
  let same100 = 0;
  const differ100: string[] = [];
  for (const qid of Object.keys(ours)) {
    const mine = ours[qid].map(([id, score]): [string, number] => [id, round(score)]).sort(anseriniOrder);
    const ids = mine.map(([id]) => id);
    const theirs = anserini[qid].map(([id]) => id);
    if (ids.slice(0, 10).join() === theirs.slice(0, 10).join()) same10++;
    if (ids.slice(0, 100).join() === theirs.join()) same100++;
    else differ100.push(qid);
  }
  console.log(
    `ours ${label} scores + Anserini's id-string tie-break: top-10 equal on ${same10}/${n}, ` +
      `top-100 equal on ${same100}/${n}${differ100.length ? ` (differs: query ${differ100.join(", ")})` : ""}`,
  );
}
for (const [label, run] of [
  ["ours", ours],
  ["anserini", anserini],
] as const) {
  const judged = data.queries.map((q) => ({
    j: data.qrels.get(q.id)!,
    ids: run[q.id].slice(0, 100).map(([id]) => id),
  }));
  const ndcg = mean(judged.map(({ j, ids }) => ndcgAt(ids, j, 10)));
  const recall = mean(judged.map(({ j, ids }) => recallAt(ids, j, 100)));
  console.log(`${label}: nDCG@10 ${ndcg} Recall@100 ${recall}`);
}
