// The house's two import rules (docs/architecture.md), checked on every relative import of src/, `import type`
// included: no import circles, and no arrow that runs back up the rooms (shared vocabulary → documents → inference →
// models → recall → rerank → the retriever → eval, serve, testing → cli). The barrels may import anything.
import fs from "node:fs";
import path from "node:path";
import { SRC, sources } from "./support/source_files.js";

const FILES = sources(SRC);
const rel = (file: string) => path.relative(SRC, file).split(path.sep).join("/");

/** Each file's relative imports (static, dynamic, re-exports, `import type`), resolved to files of src/. */
const EDGES = new Map(
  FILES.map((file) => {
    const text = fs.readFileSync(file, "utf8");
    const targets = [
      ...text.matchAll(
        /(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']/gs,
      ),
    ].map((match) => {
      const resolved = path.resolve(path.dirname(file), match[1] ?? match[2]);
      const ts = resolved.replace(/\.js$/, ".ts");
      return fs.existsSync(ts) ? ts : resolved;
    });
    return [file, [...new Set(targets)].filter((target) => FILES.includes(target))];
  }),
);

const BARRELS = new Set(["index.ts", "pgvector.ts", "serve.ts", "testing/index.ts"]);
const RETRIEVER = new Set([
  "two_stage_retriever.ts",
  "retriever_settings.ts",
  "retrieval_options.ts",
  "explanation_html.ts",
]);
const ROOMS: Record<string, number> = {
  documents: 1,
  inference: 2,
  models: 3,
  recall: 4,
  rerank: 5,
  eval: 7,
  serve: 7,
  testing: 7,
  cli: 8,
};

function layer(file: string): number {
  const name = rel(file);
  if (!name.includes("/")) return RETRIEVER.has(name) ? 6 : 0;
  return ROOMS[name.split("/")[0]];
}

describe("imports of src/", () => {
  test("every file is in a known room", () => {
    expect(FILES.filter((file) => layer(file) === undefined).map(rel)).toEqual([]);
  });

  test("no import circles (import type included)", () => {
    const state = new Map<string, "visiting" | "done">();
    const circles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      state.set(file, "visiting");
      for (const target of EDGES.get(file) ?? []) {
        if (state.get(target) === "visiting") circles.push([...trail, file, target].map(rel).join(" → "));
        else if (!state.has(target)) visit(target, [...trail, file]);
      }
      state.set(file, "done");
    };
    for (const file of FILES) if (!state.has(file)) visit(file, []);
    expect(circles).toEqual([]);
  });

  test("no arrow runs back up the rooms", () => {
    const up = [...EDGES].flatMap(([file, targets]) =>
      BARRELS.has(rel(file))
        ? []
        : targets.filter((target) => layer(target) > layer(file)).map((target) => `${rel(file)} → ${rel(target)}`),
    );
    expect(up).toEqual([]);
  });
});
