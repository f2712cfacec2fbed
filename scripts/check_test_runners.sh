#!/usr/bin/env bash
# Test runners as users run them, in the package smoke test's shared install (scripts/check_package.sh calls this
# with that project's directory): Jest (CommonJS and ES module projects, through `two-stage-retriever/jest-environment`),
# Vitest and `node --test`. Each runs one test that builds the lexical test models (`two-stage-retriever/testing`)
# and invokes a retriever (FAISS recall, cross-encoder rerank). Also checks what Jest says without the environment or
# without ES module support: the cause and the fix, never a Node.js version.
set -euo pipefail
app=${1:?usage: check_test_runners.sh <project directory with two-stage-retriever installed>}
cd "$app"
offset=${CHECK_PACKAGE_ELAPSED:-0} # seconds check_package.sh had run before calling this
ok() { printf '  ok  %-34s %s (t=%ss)\n' "$1" "$2" "$((offset + SECONDS))"; }
die() { echo "check_test_runners: $*" >&2; exit 1; }

jest_version=$(node -p "require('$(dirname "$0")/../node_modules/jest/package.json').version" 2>/dev/null || echo 30)
npm install -D "jest@$jest_version" "jest-environment-node@$jest_version" vitest@3.2.7 >>install.log 2>&1 ||
  { tail -20 install.log; die "installing jest and vitest failed"; }

# The one test, in each module system: build test models, invoke a retriever, check the answer.
body() {
  cat <<'JS'
  const texts = ["Tides are caused by the Moon.", "Ocean currents move heat toward the poles.", "Surfers watch swell forecasts."];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-runner-"));
  try {
    buildLexicalBiEncoder(path.join(dir, "bi"), { corpus: texts });
    buildLexicalCrossEncoder(path.join(dir, "ce"), { corpus: texts });
    const embeddings = new TransformersEmbeddings({ model: path.join(dir, "bi") });
    const compressor = new CrossEncoderCompressor({ model: path.join(dir, "ce") });
    const retriever = await TwoStageRetriever.fromTexts(texts, texts.map((_, i) => ({ i })), {
      embeddings,
      compressor,
      recallK: 3,
      topK: 1,
    });
    const [top] = await retriever.invoke("what causes the tides");
    await Promise.all([embeddings.dispose(), compressor.dispose()]);
    return top;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
JS
}
esm_head='import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CrossEncoderCompressor, TransformersEmbeddings, TwoStageRetriever } from "two-stage-retriever";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "two-stage-retriever/testing";'
cjs_head='const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { CrossEncoderCompressor, TransformersEmbeddings, TwoStageRetriever } = require("two-stage-retriever");
const { buildLexicalBiEncoder, buildLexicalCrossEncoder } = require("two-stage-retriever/testing");'
answer_test() { # $1: the runner's test function call prefix, $2: the assertion
  printf 'async function answer() {\n%s\n}\n\n%s("builds test models and invokes a retriever", async () => {\n  const top = await answer();\n  %s\n}, 60000);\n' \
    "$(body)" "$1" "$2"
}
jest_passed() { grep -Eo 'Tests: +[0-9]+ passed, [0-9]+ total' "$1" | head -n 1; }

# Jest, CommonJS project: the CommonJS build; @xenova/transformers is an ES module, so Jest needs its ES module
# support for it (NODE_OPTIONS=--experimental-vm-modules, as for any ES module dependency).
mkdir -p jest-cjs
echo '{ "type": "commonjs" }' >jest-cjs/package.json
echo 'module.exports = { testEnvironment: "two-stage-retriever/jest-environment", rootDir: __dirname };' >jest-cjs/jest.config.js
{ echo "$cjs_head"; answer_test test 'expect(top.pageContent).toMatch(/^Tides/);'; } >jest-cjs/answer.test.js
NODE_OPTIONS=--experimental-vm-modules npx jest -c jest-cjs/jest.config.js >jest-cjs/out.txt 2>&1 ||
  { cat jest-cjs/out.txt; die "Jest (CommonJS project) failed"; }
grep -q "require(\"two-stage-retriever\")" jest-cjs/answer.test.js
ok "Jest CommonJS (jest-environment)" "$(jest_passed jest-cjs/out.txt)"
# Without ES module support Jest refuses the import: the message names Jest and the two ways out.
if npx jest -c jest-cjs/jest.config.js >jest-cjs/no-esm.txt 2>&1; then die "Jest without ES module support should fail"; fi
grep -q "Jest without --experimental-vm-modules" jest-cjs/no-esm.txt || { cat jest-cjs/no-esm.txt; die "Jest without ES module support: no clear error"; }
if grep -q "Use Node.js >=" jest-cjs/no-esm.txt; then die "Jest without ES module support: the message blames Node.js"; fi
ok "Jest CommonJS, no ESM support" "refused naming Jest, --experimental-vm-modules and @huggingface/transformers"

# Jest, ES module project.
mkdir -p jest-esm
echo '{ "type": "module" }' >jest-esm/package.json
echo 'export default { testEnvironment: "two-stage-retriever/jest-environment", rootDir: import.meta.dirname };' >jest-esm/jest.config.js
{ echo "$esm_head"; answer_test test 'expect(top.pageContent).toMatch(/^Tides/);'; } >jest-esm/answer.test.js
NODE_OPTIONS=--experimental-vm-modules npx jest -c jest-esm/jest.config.js >jest-esm/out.txt 2>&1 ||
  { cat jest-esm/out.txt; die "Jest (ES module project) failed"; }
ok "Jest ES module (jest-environment)" "$(jest_passed jest-esm/out.txt)"
# The stock environment: the realm error the published environment exists for.
if NODE_OPTIONS=--experimental-vm-modules npx jest -c jest-esm/jest.config.js --testEnvironment node >jest-esm/stock.txt 2>&1; then
  die "Jest ES module with the stock environment passed: is two-stage-retriever/jest-environment still needed?"
fi
grep -q "must be type of function Float32Array" jest-esm/stock.txt || { cat jest-esm/stock.txt; die "unexpected failure with the stock environment"; }
ok "Jest ES module, stock environment" "fails with the realm error the environment fixes"

# Vitest.
mkdir -p vitest
{ echo "$esm_head"; echo 'import { expect, test } from "vitest";'; answer_test test 'expect(top.pageContent).toMatch(/^Tides/);'; } >vitest/answer.test.mjs
npx vitest run --root vitest >vitest/out.txt 2>&1 || { cat vitest/out.txt; die "Vitest failed"; }
ok "Vitest $(npx vitest --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)" "$(grep -Eo 'Tests +[0-9]+ passed' vitest/out.txt | head -n 1)"

# node --test.
mkdir -p node-test
{ echo "$esm_head"; echo 'import assert from "node:assert/strict";'; echo 'import { test } from "node:test";'; answer_test test 'assert.match(top.pageContent, /^Tides/);'; } |
  sed 's/}, 60000);/});/' >node-test/answer.test.mjs
node --test node-test/ >node-test/out.txt 2>&1 || { cat node-test/out.txt; die "node --test failed"; }
ok "node --test" "$(grep -E '^# pass' node-test/out.txt)"

# @huggingface/transformers beside the package (the optional peer; its onnxruntime-node install script would fetch
# CUDA files, which the CPU build does not need): Jest in a CommonJS project then runs without ES module support,
# through its CommonJS build.
hf_version=$(node -p "require('$(dirname "$0")/../package.json').devDependencies['@huggingface/transformers']")
before_mb=$(du -sm node_modules | cut -f1)
hf_started=$SECONDS
ONNXRUNTIME_NODE_INSTALL=skip npm install "@huggingface/transformers@$hf_version" >>install.log 2>&1 ||
  { tail -20 install.log; die "installing @huggingface/transformers failed"; }
ok "install @huggingface/transformers" "$hf_version in $((SECONDS - hf_started)) s, node_modules ${before_mb} MB -> $(du -sm node_modules | cut -f1) MB"
TWO_STAGE_TRANSFORMERS_RUNTIME=@huggingface/transformers npx jest -c jest-cjs/jest.config.js >jest-cjs/hf.txt 2>&1 ||
  { cat jest-cjs/hf.txt; die "Jest (CommonJS project, @huggingface/transformers) failed"; }
ok "Jest CommonJS, @huggingface/transformers" "$(jest_passed jest-cjs/hf.txt) (no --experimental-vm-modules)"
