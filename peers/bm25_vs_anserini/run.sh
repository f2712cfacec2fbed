#!/usr/bin/env bash
# Ours (Bm25Index) vs Anserini (Lucene) BM25 on SciFact, token by token (README.md in this folder).
#   peers/bm25_vs_anserini/run.sh [out]     out: an output folder; default a fresh `mktemp -d` folder
# Every output (Anserini index, runs, JSON, explain files, logs) goes to that folder, never into the repo; SciFact is
# read in place. About 1 min CPU; on a shared machine run it as `flock /tmp/heavy.lock nice -n 5 .../run.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export TSR_SCIFACT_DIR="${TSR_SCIFACT_DIR:-/work/shared/datasets/scifact}"
cache="${TSR_PEERS_CACHE:-$HOME/.cache/two-stage-retriever/peers}"
jar="$cache/dl/maven/anserini-${ANSERINI_VERSION:-1.5.0}-fatjar.jar"
java="${TSR_PEERS_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
tsx="$repo/node_modules/.bin/tsx"
need() { [[ -e "$1" ]] || { echo "run.sh: $1 is missing. $2" >&2; exit 1; }; }
need "$jar" "Fetch it with peers/fetch_anserini.sh (ANSERINI_VERSION, TSR_PEERS_CACHE)."
need "$java" "Anserini needs Java >= 21: set TSR_PEERS_JAVA_HOME to a JDK."
need "$TSR_SCIFACT_DIR/corpus.jsonl" "Set TSR_SCIFACT_DIR to SciFact in BEIR layout."
need "$tsx" "Run npm ci in $repo."

out="${1:-$(mktemp -d -t bm25_vs_anserini.XXXXXX)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "output folder: $out"
rm -rf "$out/anserini-index" "$out/scifact-corpus"
mkdir "$out/scifact-corpus" # BeirFlatCollection indexes every file of its folder: only the corpus, linked
ln -s "$TSR_SCIFACT_DIR/corpus.jsonl" "$out/scifact-corpus/corpus.jsonl"
lucene() { "$java" -cp "$jar" "$here/LuceneSide.java" "$out" "$@"; }
ts() { "$tsx" "$here/$1.ts" "$out" "${@:2}"; }

cd "$repo"
ts ours >"$out/findings.txt"                     # queries.json, ours_run.json
lucene index >"$out/index.log" 2>&1
lucene search 2>"$out/search.log"               # lucene_run.json
lucene tokens 2>>"$out/search.log"              # lucene_tokens.json
lucene explain 684 2851611 17416520 4942718 >"$out/explain_684_lucene.txt" 2>>"$out/search.log"
lucene explain 784 21601459 15491308 >"$out/explain_784_lucene.txt" 2>>"$out/search.log"
ts explain_ours 684 2851611 17416520 4942718 >"$out/explain_684_ours.txt"
ts explain_ours 784 21601459 15491308 >"$out/explain_784_ours.txt"
for step in tokens_check compare classify tiebreak; do ts "$step"; done >>"$out/findings.txt"

echo
echo "== key findings (also in $out/findings.txt; per-rank details in compare.txt, explain_*.txt) =="
cat "$out/findings.txt"
echo "== query 684, ours (the top-10 swap) =="
tail -n 3 "$out/explain_684_ours.txt"
