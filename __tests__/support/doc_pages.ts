// The user documentation as the tests read it: README.md and docs/*.md, their fenced code blocks (with the marker
// comment above each, if any), their install line and their links.
import fs from "node:fs";
import path from "node:path";

/** README.md and every docs/*.md page, as paths relative to the repository root. */
export function docPages(root: string = path.resolve(".")): string[] {
  const docs = fs
    .readdirSync(path.join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

/** One fenced code block. */
export interface CodeBlock {
  /** The page, relative to the repository root. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string, e.g. "ts", "sh", "text". */
  lang: string;
  code: string;
  /**
   * The HTML comment on the last non-blank line above the fence, e.g. `not-run: needs a Postgres server` or
   * `smoke:quickstart`; undefined when there is none.
   */
  marker?: string;
}

/** The fenced code blocks of one page, in order. */
export function codeBlocks(page: string, root: string = path.resolve(".")): CodeBlock[] {
  const lines = fs.readFileSync(path.join(root, page), "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    let above = start - 1;
    while (above >= 0 && lines[above].trim() === "") above--;
    const comment = above >= 0 ? /^<!--\s*(.*?)\s*-->$/.exec(lines[above].trim()) : null;
    blocks.push({ page, line: start + 1, lang: open[1], code: body.join("\n"), marker: comment?.[1] });
  }
  return blocks;
}

/** Languages whose blocks are programs the snippet test runs (the others must be marked). */
export const RUNNABLE_LANGS = new Set(["ts", "js"]);

/** Languages that are output or file layouts, never run. */
export const OUTPUT_LANGS = new Set(["text"]);

/** The reason a block is not run, from a `<!-- not-run: reason -->` marker. */
export function notRunReason(block: CodeBlock): string | undefined {
  const match = /^not-run:\s*(.+)$/.exec(block.marker ?? "");
  return match?.[1];
}

/**
 * What a page's snippets may import: the packages of its install blocks (`<!-- install -->` above a sh block of
 * `npm install …` lines) and of the README's `<!-- smoke:install -->` block, which every page builds on.
 */
export function installedPackages(page: string, root: string = path.resolve(".")): string[] {
  const installBlocks = (p: string) =>
    codeBlocks(p, root).filter((block) => block.marker === "install" || block.marker === "smoke:install");
  const lines = [...installBlocks("README.md"), ...(page === "README.md" ? [] : installBlocks(page))]
    .flatMap((block) => block.code.split("\n"))
    .filter((l) => /^npm install (?!-g)/.test(l));
  return [
    ...new Set(
      lines.flatMap((l) =>
        l
          .replace(/#.*$/, "")
          .split(/\s+/)
          .slice(2)
          .filter((word) => word !== "" && !word.startsWith("-"))
          .map((word) => word.replace(/(?<=.)@[^/]*$/, "")),
      ),
    ),
  ];
}

/** The package names a snippet imports (`@scope/name` or `name`; `node:` built-ins left out). */
export function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"'.][^"']*)["']/g)].map((m) => m[1]);
  return [
    ...new Set(
      specifiers
        .filter((s) => !s.startsWith("node:"))
        .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0])),
    ),
  ];
}

/** One Markdown link or image. */
export interface DocLink {
  page: string;
  line: number;
  target: string;
}

/** Every `[text](target)` and `![alt](target)` outside code blocks and inline code. */
export function links(page: string, root: string = path.resolve(".")): DocLink[] {
  const lines = fs.readFileSync(path.join(root, page), "utf8").split("\n");
  const out: DocLink[] = [];
  let inFence = false;
  lines.forEach((text, i) => {
    if (/^```/.test(text)) inFence = !inFence;
    if (inFence) return;
    const prose = text.replace(/`[^`]*`/g, "");
    for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ page, line: i + 1, target: match[1] });
  });
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a page's headings (duplicates get -1, -2, … as on GitHub). */
export function anchors(page: string, root: string = path.resolve(".")): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inFence = false;
  for (const text of fs.readFileSync(path.join(root, page), "utf8").split("\n")) {
    if (/^```/.test(text)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*)$/.exec(text);
    if (!heading) continue;
    const base = headingAnchor(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
