// Files the package finds at run time from a module's own location (`new URL("./x.mjs", import.meta.url)`, e.g. the
// inference worker's script) must sit beside that module in src/, and be files the build carries into dist/ at the
// same relative path: compiled .ts, or plain .mjs copied by scripts/copy_runtime_files.mjs. Nothing names a path.
import fs from "node:fs";
import path from "node:path";
import { SRC, sources } from "./support/source_files.js";

describe("runtime files resolved from import.meta.url", () => {
  const references = sources(SRC).flatMap((file) =>
    [...fs.readFileSync(file, "utf8").matchAll(/new URL\(\s*"(\.{1,2}\/[^"]+)",\s*import\.meta\.url\s*\)/g)].map(
      (match) => ({ file, target: path.resolve(path.dirname(file), match[1]) }),
    ),
  );

  test("the inference worker's script is found this way", () => {
    expect(references.map((ref) => path.relative(SRC, ref.target))).toContain(
      path.join("inference", "inference_thread.mjs"),
    );
  });

  test("every such file exists beside its module and is one the build carries into dist/", () => {
    for (const { file, target } of references) {
      const built = target.endsWith(".js") ? target.replace(/\.js$/, ".ts") : target;
      expect({ file: path.relative(SRC, file), exists: fs.existsSync(built) }).toEqual({
        file: path.relative(SRC, file),
        exists: true,
      });
      expect(built.startsWith(SRC + path.sep)).toBe(true);
      expect(/\.(ts|mjs)$/.test(built)).toBe(true);
    }
  });

  test("the build copies src/**/*.mjs by pattern, not by path", () => {
    const build = JSON.parse(fs.readFileSync("package.json", "utf8")).scripts.build as string;
    expect(build).toContain("scripts/copy_runtime_files.mjs");
    expect(build).not.toMatch(/cp\s+src\//);
  });
});
