#!/usr/bin/env bash
# The package as users get it: packs it, then in a fresh scratch directory
#   1. runs the README's install commands (<!-- smoke:install -->) and quickstart (<!-- smoke:quickstart -->) as
#      written there; only `two-stage-retriever` in `npm install` becomes the packed tarball. The quickstart's default
#      hub models cannot be downloaded here: the project's lexical test models are placed at ./Xenova/<model>, the
#      local-directory path the README names;
#   2. reuses that install for each consumer kind, each run for real: plain CommonJS `require` (also without
#      require(esm): the ES-module-only runtime is loaded with import()), and TypeScript with module nodenext in an ES
#      module package and in a CommonJS package, moduleResolution bundler, and module commonjs, each type-checked with
#      skipLibCheck false (wrong calls must not compile), then run: import, lexical models from `/testing`, a FAISS
#      search, a retriever invoke; then the test runners (scripts/check_test_runners.sh: Jest CommonJS and ES module
#      through `two-stage-retriever/jest-environment`, Vitest, node --test, and Jest with @huggingface/transformers);
#   2b. in a second, small install without optional dependencies (no faiss-node, pg or @langchain/community): the main
#      entry's declarations type-check with skipLibCheck false, in an ES module and a CommonJS package;
#   2c. with /serve's optional peers (fastify, @modelcontextprotocol/sdk, zod) added to the README install: a rerank
#      server answers TEI's /rerank and the retriever's MCP tools answer the SDK's own Client;
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
ok "CommonJS without require(esm)" "$(node --no-experimental-require-module cjs/main.js)"

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
# module commonjs as `tsc --init` writes it (esModuleInterop on): @langchain/core's types reach zod 4's, whose .d.cts
# default-import their locales, so any LangChain project with module commonjs needs esModuleInterop.
ts_consumer commonjs commonjs '"module": "commonjs", "esModuleInterop": true' cjs

# The test runners users run, in this install (they add jest, vitest and then @huggingface/transformers to it).
CHECK_PACKAGE_ELAPSED=$((SECONDS - started)) bash "$root/scripts/check_test_runners.sh" "$app"

# 2b. The main entry's declarations without the optional packages: a project of its own, installed without them.
alone="$scratch/types-alone"
mkdir -p "$alone/esm" "$alone/cjs"
(cd "$alone" && npm init -y >/dev/null && npm pkg set type=module overrides.sharp=^0.34.0 &&
  npm install --omit=optional --ignore-scripts "$tarball" @langchain/core \
    "typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")" \
    "@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")" >install.log 2>&1) ||
  { cat "$alone/install.log"; die "the install without optional packages failed"; }
for absent in faiss-node pg @langchain/community; do
  [ ! -e "$alone/node_modules/$absent" ] || die "types-alone: $absent is installed; the check needs it absent"
done
for kind in esm cjs; do
  echo "{ \"type\": \"$([ $kind = esm ] && echo module || echo commonjs)\" }" >"$alone/$kind/package.json"
  cat >"$alone/$kind/main.ts" <<'TS'
import { CrossEncoderCompressor, TransformersEmbeddings, TwoStageRetriever, loadFaiss } from "two-stage-retriever";
import type { TwoStageRetrieverParams } from "two-stage-retriever";
export const compressor = new CrossEncoderCompressor({ topN: 3, transformersRuntime: "auto" });
export const embeddings = new TransformersEmbeddings({ onProgress: (event) => void event.phase });
export const load: typeof loadFaiss = loadFaiss;
export type Params = TwoStageRetrieverParams;
export const retrieverClass: typeof TwoStageRetriever = TwoStageRetriever;
TS
  cat >"$alone/$kind/tsconfig.json" <<'JSON'
{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "target": "ES2022", "strict": true,
  "skipLibCheck": false, "types": ["node"], "noEmit": true } }
JSON
  (cd "$alone/$kind" && npx tsc -p .) || die "types-alone ($kind): the declarations need an optional package"
done
ok "types without optional packages" "faiss-node, pg, @langchain/community absent: esm + cjs type-check (skipLibCheck false)"

# The /pgvector subpath names pg's and @langchain/community's types: with both installed it still needs @types/pg
# (pg ships none), as src/pgvector.ts and docs say; with @types/pg it type-checks.
version_of() { node -p "require('$root/node_modules/$1/package.json').version"; }
(cd "$alone" && npm install --ignore-scripts "@langchain/community@$(version_of @langchain/community)" \
  "pg@$(version_of pg)" >>install.log 2>&1) || { tail -20 "$alone/install.log"; die "installing pg and @langchain/community failed"; }
cat >"$alone/esm/pgvector.ts" <<'TS'
import { connectPgvectorStore, type PgvectorStoreParams } from "two-stage-retriever/pgvector";
export const connect: typeof connectPgvectorStore = connectPgvectorStore;
export type Params = PgvectorStoreParams;
TS
if (cd "$alone/esm" && npx tsc -p . >pgvector-no-types.txt 2>&1); then
  die "/pgvector type-checked without @types/pg: drop it from the docs"
fi
grep -q "'pg'" "$alone/esm/pgvector-no-types.txt" || { cat "$alone/esm/pgvector-no-types.txt"; die "/pgvector without @types/pg failed for another reason"; }
(cd "$alone" && npm install --ignore-scripts "@types/pg@$(version_of @types/pg)" >>install.log 2>&1) || die "installing @types/pg failed"
(cd "$alone/esm" && npx tsc -p .) || die "/pgvector does not type-check with pg, @types/pg and @langchain/community"
ok "types of /pgvector" "need pg + @types/pg + @langchain/community; with them: type-check (skipLibCheck false)"

# 2c. The /serve subpath with its optional peers (fastify, @modelcontextprotocol/sdk, zod) beside the README install:
# a rerank server answering TEI's /rerank, and the retriever's MCP tools answering the SDK's own Client.
(cd "$app" && npm install "fastify@$(version_of fastify)" "@modelcontextprotocol/sdk@$(version_of @modelcontextprotocol/sdk)" \
  "zod@$(version_of zod)" >>install.log 2>&1) || { tail -20 "$app/install.log"; die "installing /serve's optional peers failed"; }
cat >"$app/serve_check.mjs" <<'JS'
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { TwoStageRetriever, TransformersEmbeddings, CrossEncoderCompressor } from "two-stage-retriever";
import { createRetrieverMcpServer, startRerankServer } from "two-stage-retriever/serve";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "two-stage-retriever/testing";

const texts = ["Tides are caused by the Moon's gravity.", "Espresso needs finely ground coffee.", "Rivers flow to the sea."];
buildLexicalBiEncoder("serve-models/bi", { corpus: texts });
buildLexicalCrossEncoder("serve-models/ce", { corpus: texts });
const server = await startRerankServer({ reranker: { model: "serve-models/ce" }, port: 0 });
const ranks = await (await fetch(`${server.url}/rerank`, {
  method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "what causes tides", texts }),
})).json();
await server.close();
if (ranks[0]?.index !== 0) throw new Error(`unexpected /rerank answer ${JSON.stringify(ranks)}`);
const retriever = await TwoStageRetriever.fromTexts(texts, {}, {
  embeddings: new TransformersEmbeddings({ model: "serve-models/bi" }),
  compressor: new CrossEncoderCompressor({ model: "serve-models/ce" }), recallK: 3, topK: 2,
});
const mcp = await createRetrieverMcpServer({ retriever });
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await mcp.connect(serverSide);
const client = new Client({ name: "check", version: "1.0.0" });
await client.connect(clientSide);
const result = await client.callTool({ name: "search", arguments: { query: "what causes tides", topK: 1 } });
const found = JSON.parse(result.content[0].text);
await client.close();
await retriever.dispose();
if (!found.results[0].text.startsWith("Tides")) throw new Error(`unexpected search answer ${JSON.stringify(found)}`);
console.log(`/rerank best ${ranks[0].index}, MCP search best "${found.results[0].text}"`);
JS
ok "/serve (rerank server + MCP tools)" "$(cd "$app" && node serve_check.mjs)"

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
