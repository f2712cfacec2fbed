// Copies the plain-JavaScript files of src/ (`*.mjs`, e.g. the inference worker's script, and `*.cjs`, e.g. the
// published Jest environment) into dist/ at the same relative paths (run after `tsc`, which compiles only the .ts
// files). The sources find such a file from their own
// location (`new URL("./inference_thread.mjs", import.meta.url)`, and `__filename` in the CommonJS build), so a
// file moved in src/ lands beside the modules that use it without this script naming it.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "src");
const dist = path.join(root, "dist");

let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(mjs|cjs)$/.test(entry.name)) continue;
  const from = path.join(entry.parentPath ?? entry.path, entry.name);
  const to = path.join(dist, path.relative(src, from));
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied++;
}
console.log(`runtime files: ${copied} copied into dist/`);
