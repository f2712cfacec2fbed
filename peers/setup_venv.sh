#!/usr/bin/env bash
# Create (or reuse) a pinned venv for the Python parity peers, outside the repo.
#   peers/setup_venv.sh ref    -> $CACHE/venv-ref   from peers/requirements-ref.txt  (torch, several GB)
#   peers/setup_venv.sh onnx   -> $CACHE/venv-onnx  from peers/requirements-onnx.txt (no torch)
#   peers/setup_venv.sh ort-current -> $CACHE/venv-ort-current (today's onnxruntime, for peers/ort_sensitivity.py)
#   peers/setup_venv.sh bm25s  -> $CACHE/venv-bm25s (bm25s + PyStemmer), peers/setup_venv.sh faiss -> $CACHE/venv-faiss (faiss-cpu)
#   peers/setup_venv.sh langchain -> $CACHE/venv-langchain (the LangChain Python pipeline of the end-to-end comparison; torch)
# CACHE defaults to ~/.cache/two-stage-retriever/peers (override with TSR_PEERS_CACHE).
# Idempotent: a stamp holding the requirements file's sha256 skips the install when nothing changed.
set -euo pipefail
name="${1:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements-$name.txt"
if [[ -z "$name" || ! -f "$req" ]]; then
  echo "usage: $0 <ref|onnx|ort-current|bm25s|faiss|langchain|clients>  (no requirements file '$req')" >&2
  exit 2
fi
cache="${TSR_PEERS_CACHE:-$HOME/.cache/two-stage-retriever/peers}"
venv="$cache/venv-$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
  echo "$venv is up to date ($req)"
  exit 0
fi
mkdir -p "$cache"
rm -rf "$venv"  # a changed requirements file gets a fresh venv: no stale packages left from older pins
python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet -r "$req"
echo "$want" > "$stamp"
"$venv/bin/python" -m pip freeze > "$venv/freeze.txt"
echo "ready: $venv ($(wc -l < "$venv/freeze.txt") packages; freeze in $venv/freeze.txt)"
