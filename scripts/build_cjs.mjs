// The CommonJS flavour of the package, built from tsc's ES module output in dist/ (run after `tsc`):
// dist/**/*.js -> dist/**/*.cjs (esbuild, format cjs) and dist/**/*.d.ts -> dist/**/*.d.cts, side by side as
// LangChain's packages ship them. Relative specifiers get the .cjs extension; `import.meta.url` becomes the file's
// own URL. The transformers.js runtimes are imported in one place (src/models/transformers_runtime.ts): the ES module
// only @xenova/transformers stays a dynamic import() (which CommonJS can do on every Node.js, without require(esm));
// @huggingface/transformers, which ships CommonJS, is required, so it loads even where import() cannot (Jest without
// --experimental-vm-modules); the ES-module-only d3 modules of the recallK chart are bundled into dist/vendor/. The CLI
// (dist/cli) stays ES module only.
// The declarations name types of optional dependencies (faiss-node): those are vendored into dist/vendor/ and the
// declarations point there, so the published types compile (skipLibCheck: false) where the optional package is absent.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync, transformSync } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
/** Dependencies published as ES modules only: they must stay import() in the CommonJS build. */
const ESM_ONLY = ["@xenova/transformers"];
/** Dependencies with a CommonJS build of their own: their import() becomes require(). */
const REQUIRED = ["@huggingface/transformers"];
/**
 * ES-module-only dependencies imported statically (the recallK chart's d3 modules): bundled into
 * dist/vendor/<name>.cjs, which the CommonJS build requires, so it loads on every Node.js 20 without require(esm).
 */
const BUNDLED = ["d3-scale", "d3-shape"];
const IMPORT_META_URL = "__twoStageImportMetaUrl";

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== path.join(dist, "cli")) yield* files(full);
    } else yield full;
  }
}

/** `./x.js` -> `./x.cjs` in require() calls, import() calls and `from "..."` clauses. */
function cjsSpecifiers(code) {
  return code.replace(/((?:require|import)\(|from\s+)"(\.{1,2}\/[^"]*)\.js"/g, '$1"$2.cjs"');
}

/** Optional dependencies whose types the declarations use: package name -> its declaration file. */
const VENDORED_TYPES = { "faiss-node": "faiss-node/lib/index.d.ts" };
const require = createRequire(import.meta.url);
mkdirSync(path.join(dist, "vendor"), { recursive: true });
for (const [name, file] of Object.entries(VENDORED_TYPES)) {
  const version = require(`${name}/package.json`).version;
  const types = `// The type declarations of ${name} ${version} (MIT), vendored by two-stage-retriever's build so its own\n// declarations compile where the optional ${name} is not installed.\n${readFileSync(require.resolve(file), "utf8")}`;
  writeFileSync(path.join(dist, "vendor", `${name}.d.ts`), types);
}

/** `from "faiss-node"` -> `from "<relative>/vendor/faiss-node.js"` in a declaration file. */
function vendoredTypes(file, code) {
  for (const name of Object.keys(VENDORED_TYPES)) {
    const target = path
      .relative(path.dirname(file), path.join(dist, "vendor", `${name}.js`))
      .split(path.sep)
      .join("/");
    code = code.replaceAll(`from "${name}"`, `from "${target.startsWith(".") ? target : `./${target}`}"`);
  }
  return code;
}

for (const id of BUNDLED) {
  buildSync({
    stdin: { contents: `export * from "${id}";`, resolveDir: root, loader: "js" },
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    legalComments: "inline",
    outfile: path.join(dist, "vendor", `${id}.cjs`),
    logLevel: "warning",
  });
}

/** `require("d3-scale")` -> `require("<relative>/vendor/d3-scale.cjs")` in a CommonJS module. */
function bundledRequires(file, code) {
  for (const id of BUNDLED) {
    const target = path
      .relative(path.dirname(file), path.join(dist, "vendor", `${id}.cjs`))
      .split(path.sep)
      .join("/");
    code = code.replaceAll(`require("${id}")`, `require("${target.startsWith(".") ? target : `./${target}`}")`);
  }
  return code;
}

let js = 0;
let dts = 0;
for (const file of files(dist)) {
  if (file.endsWith(".js")) {
    const source = readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
    const usesMeta = source.includes("import.meta");
    let { code } = transformSync(source, {
      format: "cjs",
      platform: "node",
      target: "node20",
      loader: "js",
      sourcefile: path.relative(dist, file),
      define: usesMeta ? { "import.meta.url": IMPORT_META_URL } : undefined,
      banner: usesMeta ? `const ${IMPORT_META_URL} = require("node:url").pathToFileURL(__filename).href;` : undefined,
    });
    if (/\bimport\.meta\b/.test(code)) throw new Error(`${file}: import.meta left in the CommonJS build`);
    code = cjsSpecifiers(code);
    for (const id of ESM_ONLY) {
      if (code.includes(`require("${id}")`)) throw new Error(`${file}: ${id} is ES module only; import() it`);
    }
    for (const id of REQUIRED)
      code = code.replaceAll(`import("${id}")`, `Promise.resolve().then(() => require("${id}"))`);
    code = bundledRequires(file, code);
    writeFileSync(file.replace(/\.js$/, ".cjs"), code);
    js++;
  } else if (file.endsWith(".d.ts")) {
    const original = readFileSync(file, "utf8");
    const vendored = vendoredTypes(file, original);
    if (vendored !== original) writeFileSync(file, vendored);
    const source = vendored.replace(/^\/\/# sourceMappingURL=.*$/m, "");
    writeFileSync(file.replace(/\.d\.ts$/, ".d.cts"), cjsSpecifiers(source));
    dts++;
  }
}
console.log(`CommonJS build: ${js} modules, ${dts} declaration files`);
