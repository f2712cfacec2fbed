import fs from "node:fs";
import path from "node:path";

import { TEST_CORPUS } from "./corpus.js";

/** Writes a small BEIR collection over the test corpus: 6 judged queries, graded, plus bad judgments to count. */
export function writeTestDataset(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const corpus = TEST_CORPUS.map((text, i) => JSON.stringify({ _id: `doc${i}`, title: "", text }));
  fs.writeFileSync(path.join(dir, "corpus.jsonl"), `${corpus.join("\n")}\n`);
  const queries = [
    ["q1", "volcanic sulfur dioxide cools the climate"],
    ["q2", "waggle dance of honeybees"],
    ["q3", "Gutenberg printing press"],
    ["q4", "carbon stored in the rainforest and photosynthesis"],
    ["q5", "lithium batteries"],
    ["q6", "a query nobody judged"],
    ["q7", "chess openings"],
  ];
  fs.writeFileSync(
    path.join(dir, "queries.jsonl"),
    `${queries.map(([id, text]) => JSON.stringify({ _id: id, text })).join("\n")}\n`,
  );
  const qrels = [
    "query-id\tcorpus-id\tscore",
    "q1\tdoc6\t2",
    "q2\tdoc13\t1",
    "q3\tdoc18\t1",
    "q4\tdoc14\t2",
    "q4\tdoc1\t1",
    "q5\tdoc22\t1",
    "q7\tdoc15\t1",
    "q7\tdoc99\t1", // unknown document: counted, ignored
    "q1\tdoc0\t0", // grade 0: not relevant
  ];
  fs.writeFileSync(path.join(dir, "qrels.tsv"), `${qrels.join("\n")}\n`);
}
