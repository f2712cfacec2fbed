#!/usr/bin/env bash
# Packs this package, installs the tarball into a scratch project the way a user would, builds faiss-node there with
# `npx two-stage setup-faiss` when its own install could not, and imports the package and runs a FAISS search.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$root"
tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
cd "$scratch"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
# What the README tells users on machines without GitHub access: sharp 0.34 ships its binaries on npm.
npm pkg set overrides.sharp=^0.34.0 >/dev/null
npm install --no-audit --no-fund --prefer-offline "./$tarball" "@langchain/core@$(node -p "require('$root/node_modules/@langchain/core/package.json').version")" >/dev/null
npx two-stage setup-faiss
npx two-stage --help | grep -q "two-stage <command>"
cat > smoke.js <<'JS'
import { loadFaiss, TwoStageError, TwoStageRetriever, CrossEncoderCompressor } from "two-stage-retriever";
import { buildLexicalCrossEncoder } from "two-stage-retriever/testing";
if (typeof TwoStageRetriever.fromTexts !== "function" || typeof buildLexicalCrossEncoder !== "function") throw new Error("exports missing");
if (!(new CrossEncoderCompressor({ topN: 2 }).topN === 2)) throw new Error("compressor options not applied");
const faiss = loadFaiss();
const index = new faiss.IndexFlatIP(2);
index.add([1, 0, 0, 1]);
const { labels } = index.search([0.1, 0.9], 1);
if (labels[0] !== 1 || typeof TwoStageError.isInstance !== "function") throw new Error("unexpected result");
console.log("package smoke test: import and FAISS search OK");
JS
node smoke.js
