// The CommonJS flavour of the package, built from tsc's ES module output in dist/ (run after `tsc`):
// dist/**/*.js -> dist/**/*.cjs (esbuild, format cjs) and dist/**/*.d.ts -> dist/**/*.d.cts, side by side as
// LangChain's packages ship them. Relative specifiers get the .cjs extension; `import.meta.url` becomes the file's
// own URL; ESM-only dependencies are required through dist/esm_require.cjs (a clear error on Node.js without
// require(esm)). The CLI (dist/cli) stays ES module only.
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
/** Dependencies published as ES modules only. */
const ESM_ONLY = ["@xenova/transformers", "d3-scale", "d3-shape"];
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
      const helper = path.relative(path.dirname(file), path.join(dist, "esm_require.cjs")).split(path.sep).join("/");
      code = code.replaceAll(
        `require("${id}")`,
        `require("${helper.startsWith(".") ? helper : `./${helper}`}").requireEsm("${id}")`,
      );
    }
    writeFileSync(file.replace(/\.js$/, ".cjs"), code);
    js++;
  } else if (file.endsWith(".d.ts")) {
    const source = readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
    writeFileSync(file.replace(/\.d\.ts$/, ".d.cts"), cjsSpecifiers(source));
    dts++;
  }
}
copyFileSync(path.join(root, "scripts", "cjs", "esm_require.cjs"), path.join(dist, "esm_require.cjs"));
console.log(`CommonJS build: ${js} modules, ${dts} declaration files`);
