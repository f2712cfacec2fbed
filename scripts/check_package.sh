#!/usr/bin/env bash
# The package as users get it: packs it, then in a fresh scratch directory
#   1. runs the README's install commands (<!-- smoke:install -->) and quickstart (<!-- smoke:quickstart -->) as
#      written there; only `two-stage-retriever` in `npm install` becomes the packed tarball. The quickstart's default
#      hub models cannot be downloaded here: the project's lexical test models are placed at ./Xenova/<model>, the
#      local-directory path the README names;
#   2. reuses that install for each consumer kind, each run for real: plain CommonJS `require` (and the clear error
#      without require(esm)), and TypeScript with module nodenext in an ES module package and in a CommonJS package,
#      moduleResolution bundler, and module commonjs, each type-checked with skipLibCheck false (wrong calls must not
#      compile), then run: import, lexical models from `/testing`, a FAISS search, a retriever invoke;
#   3. executes examples/notebook.ipynb with Jupyter and the tslab kernel (`jupyter nbconvert --execute`, which fails
#      when a cell errors). Needs jupyter-nbconvert, python3-ipykernel and tslab: .ci/run installs them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export npm_config_audit=false npm_config_fund=false npm_config_prefer_offline=true npm_config_update_notifier=false
started=$SECONDS
ok() { printf '  ok  %-34s %s (t=%ss)\n' "$1" "$2" "$((SECONDS - started))"; }
die() { echo "check_package: $*" >&2; exit 1; }

# The fenced block that follows `<!-- smoke:NAME -->` in the README.
readme_block() {
  awk -v marker="<!-- smoke:$1 -->" '
    $0 == marker { found = 1; next }
    found == 1 && /^```/ { found = 2; next }
    found == 2 && /^```/ { exit }
    found == 2 { print }' "$root/README.md"
}

cd "$root"
tarball="$scratch/$(npm pack --silent --pack-destination "$scratch" | tail -n 1)"
contents=$(tar -tzf "$tarball")
grep -qx "package/dist/index.cjs" <<<"$contents" || die "the tarball has no CommonJS build"
grep -qx "package/dist/inference/inference_thread.mjs" <<<"$contents" || die "the tarball lacks the inference worker's script"
grep -qx "package/examples/quickstart.ts" <<<"$contents" || die "the tarball lacks the examples the README names"
app="$scratch/app"
mkdir "$app"
cd "$app"

# 1. README install commands and quickstart.
install=$(readme_block install)
[ -n "$install" ] || die "README has no <!-- smoke:install --> block"
grep -q "^npm install two-stage-retriever " <<<"$install" || die "README install block has no 'npm install two-stage-retriever ...' line"
install=${install//npm install two-stage-retriever /npm install $tarball }
echo "README install commands (two-stage-retriever -> the packed tarball):"
sed 's/^/  $ /' <<<"$install"
bash -euo pipefail -c "$install" >install.log 2>&1 || { cat install.log; die "the README install commands failed"; }
ok "README install" "$(node -p 'Object.keys(require("./node_modules/.package-lock.json").packages).length') packages, $(du -sm node_modules | cut -f1) MB"
npx two-stage --help | grep -q "two-stage <command>" || die "the two-stage CLI does not start"

quickstart=$(readme_block quickstart)
[ -n "$quickstart" ] || die "README has no <!-- smoke:quickstart --> block"
printf '%s\n' "$quickstart" >quickstart.js
# Stand-ins for the default models, at the local paths the README names, built over the quickstart's own texts.
node --input-type=module -e '
  import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "two-stage-retriever/testing";
  import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
  const corpus = [...readFileSync("quickstart.js", "utf8").matchAll(/"([^"]{20,})"/g)].map((m) => m[1]);
  buildLexicalBiEncoder("Xenova/bge-small-en-v1.5", { corpus });
  // The stand-in pools by mean and takes no query instruction (a lexical model gives the [CLS] token nothing), as
  // its own sentence-transformers files say; they take precedence over the bge profile its name would select.
  mkdirSync("Xenova/bge-small-en-v1.5/1_Pooling", { recursive: true });
  writeFileSync("Xenova/bge-small-en-v1.5/1_Pooling/config.json", JSON.stringify({ pooling_mode_mean_tokens: true }));
  writeFileSync("Xenova/bge-small-en-v1.5/config_sentence_transformers.json", JSON.stringify({ prompts: { query: "", document: "" } }));
  buildLexicalCrossEncoder("Xenova/ms-marco-MiniLM-L-6-v2", { corpus });'
node quickstart.js | tee quickstart.out
head -n 1 quickstart.out | grep -Eq '^#1 \(stage 1 rank [0-9]+\) [01]\.[0-9]{3} Tides are caused' || die "unexpected quickstart output"
[ -f my-index/faiss.index ] || die "the quickstart did not save my-index"
ok "README quickstart (ESM, node)" "answered and saved"

# 2. Consumer kinds sharing this install.
npm install -D "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")" \
  "@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")" >>install.log 2>&1 ||
  { cat install.log; die "installing typescript failed"; }

mkdir cjs
cat >cjs/main.js <<'JS'
const { TwoStageError, InvalidArgumentError, TwoStageRetriever, TransformersEmbeddings, CrossEncoderCompressor, loadFaiss } = require("two-stage-retriever");
const { buildLexicalBiEncoder, buildLexicalCrossEncoder } = require("two-stage-retriever/testing");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

async function main() {
  if (!require.resolve("two-stage-retriever").endsWith(".cjs")) throw new Error("require did not load the CommonJS build");
  const texts = ["Tides are caused by the Moon.", "Ocean currents move heat toward the poles.", "Surfers watch swell forecasts."];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-cjs-"));
  try {
    buildLexicalBiEncoder(path.join(dir, "bi"), { corpus: texts });
    buildLexicalCrossEncoder(path.join(dir, "ce"), { corpus: texts });
    const index = new (loadFaiss().IndexFlatIP)(2);
    index.add([1, 0, 0, 1]);
    if (index.search([0.1, 0.9], 1).labels[0] !== 1) throw new Error("wrong FAISS result");
    const embeddings = new TransformersEmbeddings({ model: path.join(dir, "bi") });
    const compressor = new CrossEncoderCompressor({ model: path.join(dir, "ce") });
    const retriever = await TwoStageRetriever.fromTexts(texts, texts.map((_, i) => ({ i })), { embeddings, compressor, recallK: 3, topK: 1 });
    const [top] = await retriever.invoke("what causes the tides");
    if (!top.pageContent.startsWith("Tides") || top.metadata.rerankRank !== 1) throw new Error("wrong retriever result");
    await Promise.all([embeddings.dispose(), compressor.dispose()]);
    // Both builds in one process (the dual-package hazard): errors are still recognised across them.
    const esm = await import("two-stage-retriever");
    if (esm.TwoStageError === TwoStageError || !InvalidArgumentError.isInstance(new esm.InvalidArgumentError("x"))) {
      throw new Error("isInstance does not work across the ES module and CommonJS builds");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main().then(() => console.log("require, lexical models, FAISS search, invoke"), (error) => { console.error(error); process.exit(1); });
JS
echo '{ "type": "commonjs" }' >cjs/package.json
ok "CommonJS require (plain JS)" "$(node cjs/main.js)"
if node --no-experimental-require-module cjs/main.js >cjs/no-require-esm.out 2>&1; then
  die "require without require(esm) should fail with a clear error"
fi
grep -q "Use Node.js >= 20.19 or >= 22.12" cjs/no-require-esm.out || { cat cjs/no-require-esm.out; die "no clear error without require(esm)"; }
ok "CommonJS without require(esm)" "refused with the Node.js version to use"

# One TypeScript consumer, compiled under each configuration. `typeChecks` is never called: it proves the types are
# real (a wrong call that compiled would make its @ts-expect-error unused, which is an error).
cat >"$scratch/consumer.ts" <<'TS'
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CrossEncoderCompressor, loadFaiss, TransformersEmbeddings, TwoStageRetriever } from "two-stage-retriever";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "two-stage-retriever/testing";

export function typeChecks(retriever: TwoStageRetriever): void {
  // @ts-expect-error topN is a number
  new CrossEncoderCompressor({ topN: "3" });
  // @ts-expect-error the corpus is required
  buildLexicalCrossEncoder("dir", {});
  // @ts-expect-error invoke takes a query string
  void retriever.invoke(42);
}

async function main(): Promise<string> {
  const texts = ["Tides are caused by the Moon.", "Ocean currents move heat toward the poles.", "Surfers watch swell forecasts."];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-ts-"));
  try {
    buildLexicalBiEncoder(path.join(dir, "bi"), { corpus: texts });
    buildLexicalCrossEncoder(path.join(dir, "ce"), { corpus: texts });
    const index = new (loadFaiss().IndexFlatIP)(2);
    index.add([1, 0, 0, 1]);
    const labels: number[] = index.search([0.1, 0.9], 1).labels;
    if (labels[0] !== 1) throw new Error("wrong FAISS result");
    const embeddings = new TransformersEmbeddings({ model: path.join(dir, "bi") });
    const compressor = new CrossEncoderCompressor({ model: path.join(dir, "ce") });
    const retriever = await TwoStageRetriever.fromTexts(texts, texts.map((_, i) => ({ i })), {
      embeddings,
      compressor,
      recallK: 3,
      topK: 1,
    });
    const docs = await retriever.invoke("what causes the tides");
    if (!docs[0]?.pageContent.startsWith("Tides")) throw new Error("wrong retriever result");
    await Promise.all([embeddings.dispose(), compressor.dispose()]);
    return "import, lexical models, FAISS search, invoke";
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (done) => console.log(done),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
TS

# name, package.json type, compiler options, the format tsc must emit for the package import (esm or cjs).
ts_consumer() {
  local name=$1 type=$2 options=$3 format=$4 extra=${5:-}
  mkdir "$name"
  cp "$scratch/consumer.ts" "$name/main.ts"
  [ -z "$extra" ] || cp "$extra" "$name/"
  echo "{ \"type\": \"$type\" }" >"$name/package.json"
  cat >"$name/tsconfig.json" <<JSON
{
  "compilerOptions": {
    $options,
    "target": "ES2022",
    "strict": true,
    "skipLibCheck": false,
    "types": ["node"],
    "outDir": "out"
  }
}
JSON
  (cd "$name" && npx tsc -p .) || die "$name: tsc failed"
  if [ "$format" = cjs ]; then
    grep -q 'require("two-stage-retriever")' "$name/out/main.js" || die "$name: tsc did not emit require"
  else
    grep -q 'from "two-stage-retriever"' "$name/out/main.js" || die "$name: tsc did not emit import"
  fi
  ok "TypeScript $name" "$format: $(node "$name/out/main.js")"
}
# The README quickstart also type-checks as TypeScript in an ES module package (it is compiled, not run again).
cp quickstart.js "$scratch/quickstart.ts"
ts_consumer nodenext-esm module '"module": "nodenext", "moduleResolution": "nodenext"' esm "$scratch/quickstart.ts"
ts_consumer nodenext-cjs commonjs '"module": "nodenext", "moduleResolution": "nodenext"' cjs
ts_consumer bundler module '"module": "esnext", "moduleResolution": "bundler"' esm
ts_consumer commonjs commonjs '"module": "commonjs"' cjs

# 3. The notebook, in this project (tslab compiles every import to require).
command -v jupyter >/dev/null && command -v tslab >/dev/null ||
  die "the notebook needs Jupyter and tslab: apt-get install jupyter-nbconvert python3-ipykernel; npm install -g tslab; tslab install --python=/usr/bin/python3"
cp "$root/examples/notebook.ipynb" .
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout=300 \
  --output notebook.out.ipynb notebook.ipynb >notebook.log 2>&1 || { cat notebook.log; die "a notebook cell failed"; }
cells=$(node -e '
  const nb = JSON.parse(require("node:fs").readFileSync("notebook.out.ipynb", "utf8"));
  const code = nb.cells.filter((c) => c.cell_type === "code");
  const html = code.flatMap((c) => c.outputs.map((o) => [].concat(o.data?.["text/html"] ?? []).join("")));
  if (code.some((c) => c.outputs.some((o) => o.output_type === "error" || o.name === "stderr"))) process.exit(1);
  // The explain() table with a candidate stage 2 moved, and the evaluate() report with its recallK chart.
  if (!html.some((h) => h.includes("tsr-explain") && /class="move (up|down)"/.test(h))) process.exit(2);
  if (!html.some((h) => h.includes("tsr-eval") && h.includes("data-two-stage=\"recall-chart\""))) process.exit(3);
  console.log(code.length);') || die "the notebook printed errors, or no explain() table with a move, or no recallK chart (see $app/notebook.out.ipynb)"
ok "notebook (Jupyter + tslab)" "$cells code cells ran, explain() table and recallK chart shown"
echo "package smoke test: all consumer kinds OK ($((SECONDS - started)) s)"
