// docs/architecture.md names files and functions hop by hop; this keeps it true as files move: every file it names
// exists (under src/ or __tests__/), and every `name` it attributes to a file is defined in that file.
import fs from "node:fs";
import path from "node:path";

// Paragraphs that start with "Before" describe the old layout on purpose.
const doc = fs
  .readFileSync("docs/architecture.md", "utf8")
  .split(/\n\s*\n/)
  .filter((paragraph) => !paragraph.startsWith("Before"))
  .join("\n\n");

function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? sources(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

const ALL = [...sources("src"), ...sources("__tests__")].map((file) => file.split(path.sep).join("/"));

/** The repository file a name in the doc refers to: a path under src/ or __tests__/, or a unique base name. */
function resolve(name: string): string[] {
  if (name.startsWith("__tests__/")) return ALL.filter((file) => file === name);
  return ALL.filter((file) => file === `src/${name}` || file.endsWith(`/${name}`));
}

describe("docs/architecture.md", () => {
  const named = [...doc.matchAll(/`([\w./-]+\.(?:ts|mjs))`/g)].map((match) => match[1]);

  test("names files", () => {
    expect(named.length).toBeGreaterThan(40);
  });

  test("every file it names exists", () => {
    const missing = [...new Set(named)].filter((name) => resolve(name).length === 0);
    expect(missing).toEqual([]);
  });

  test("every function it places in a file (`fn` (`file.ts`)) is defined there", () => {
    const pairs = [...doc.matchAll(/`(\w+)`\s*\(`([\w./-]+\.ts)`/g)].map((match) => [match[1], match[2]] as const);
    expect(pairs.length).toBeGreaterThan(10);
    const wrong = pairs.filter(([fn, file]) => {
      const text = resolve(file)
        .map((found) => fs.readFileSync(found, "utf8"))
        .join("\n");
      return !new RegExp(
        `(function\\*?|class|const|interface|type)\\s+${fn}\\b|^\\s+((private|static|override|async)\\s+)*${fn}\\(`,
        "m",
      ).test(text);
    });
    expect(wrong).toEqual([]);
  });
});
