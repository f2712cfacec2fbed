#!/usr/bin/env bash
# Stage-1 comparison behind the README's "Stage 1 without a model" table: for each BEIR collection given, runs
# `two-stage eval` with --stage1 bm25, dense and hybrid (lexical test models: no weights needed) and prints
# Recall@recallK per stage 1 side by side, plus stage-1 nDCG@10.
# Usage: bash scripts/compare_stage1.sh ../shared/datasets/{cranfield,cisi,adi}
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
for dataset in "$@"; do
  name=$(basename "$dataset")
  for kind in bm25 dense hybrid; do
    # The lexical test embeddings are weaker than BM25: the hybrid weighs them 0.5 (the default, 1, is for real models).
    node --import tsx "$root/src/cli/main.ts" eval --dataset "$dataset" --stage1 "$kind" --lexical-models \
      $([ "$kind" = hybrid ] && echo --dense-weight 0.5) --recall-k 10,20,50,100,200 --top-k 10 --latency-queries 0 --json > "$out/$name.$kind.json" 2> /dev/null
  done
done
node - "$out" "$@" <<'JS'
const fs = require("fs");
const path = require("path");
const [dir, ...datasets] = process.argv.slice(2);
for (const dataset of datasets) {
  const name = path.basename(dataset);
  const rows = ["bm25", "dense", "hybrid"].map((kind) => {
    const r = JSON.parse(fs.readFileSync(path.join(dir, `${name}.${kind}.json`), "utf8"));
    return [kind, r.stage1Ndcg.toFixed(4), ...r.results.map((x) => x.recall.toFixed(4)), ...r.results.map((x) => x.ndcg.toFixed(4))];
  });
  const ks = JSON.parse(fs.readFileSync(path.join(dir, `${name}.bm25.json`), "utf8")).results.map((x) => x.recallK);
  console.log(`\n${name}`);
  console.log(["stage 1", "stage-1 nDCG@10", ...ks.map((k) => `R@${k}`), ...ks.map((k) => `2-stage nDCG@10 @${k}`)].join(" | "));
  for (const row of rows) console.log(row.join(" | "));
}
JS
