#!/usr/bin/env bash
# Fetch the Anserini fat jar (Lucene BM25 peer, what Pyserini wraps) from Maven Central into the cache and check it
# against Maven Central's own sha1. Needs Java >= 21 to run: JAVA_HOME defaults to the JDK 25 on this machine kind.
#   prints the jar's path on stdout.
set -euo pipefail
ver="${ANSERINI_VERSION:-1.5.0}"
cache="${TSR_PEERS_CACHE:-$HOME/.cache/two-stage-retriever/peers}"
dir="$cache/dl/maven"; mkdir -p "$dir"
jar="$dir/anserini-$ver-fatjar.jar"
url="https://repo1.maven.org/maven2/io/anserini/anserini/$ver/anserini-$ver-fatjar.jar"
if [[ ! -f "$jar" ]]; then
  curl -fsSL -o "$jar.part" "$url"
  want="$(curl -fsSL "$url.sha1" | cut -c1-40)"
  got="$(sha1sum "$jar.part" | cut -d' ' -f1)"
  if [[ "$got" != "$want" ]]; then echo "sha1 mismatch for $url: got $got, Maven Central says $want" >&2; rm -f "$jar.part"; exit 1; fi
  mv "$jar.part" "$jar"
fi
echo "$jar"
