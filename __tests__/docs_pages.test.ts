// The user documentation (README.md, docs/*.md) holds together: every relative link reaches a shipped file and an
// existing heading, every code block is either run by docs_snippets.int.test.ts or marked (output, or a stated reason),
// user pages name no file the package does not ship, and no message speaks of a version this package is not.
import fs from "node:fs";
import path from "node:path";

import {
  OUTPUT_LANGS,
  RUNNABLE_LANGS,
  anchors,
  codeBlocks,
  docPages,
  importedPackages,
  installedPackages,
  links,
  notRunReason,
} from "./support/doc_pages.js";
import { SRC, sources } from "./support/source_files.js";

const PAGES = docPages();
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8")) as {
  version: string;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * Pages other work in progress adds; a link to one of them is allowed before the page exists. Once it exists it is
 * checked like any other (take it off this list then).
 */
const PENDING_PAGES = new Set<string>([]);

/** Pages for contributors, which may name repository files (tests, scripts, sources). */
const CONTRIBUTOR_PAGES = new Set(["docs/contributing.md", "docs/architecture.md", "docs/peers.md"]);

/** Blocks that check_package.sh or .ci/run run as written (README install, quickstart; the set-up commands). */
const RUN_ELSEWHERE = /^(smoke:(install|quickstart)|run-by: \.ci\/run)$/;

/** Install blocks: the packages the snippets of their page may import (docs_snippets.int.test.ts resolves them). */
const INSTALL = "install";

const shipped = (file: string) =>
  pkg.files.some((entry) => file === entry || file.startsWith(`${entry.replace(/\/$/, "")}/`));

describe("links", () => {
  const all = PAGES.flatMap((page) => links(page));

  test("the pages have links to check", () => {
    expect(all.length).toBeGreaterThan(20);
  });

  test("every relative link reaches a shipped file and, with #anchor, one of its headings", () => {
    const broken: string[] = [];
    for (const { page, line, target } of all) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [file, anchor] = target.split("#");
      const resolved = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
      const where = `${page}:${line} → ${target}`;
      if (PENDING_PAGES.has(resolved) && !fs.existsSync(resolved)) continue;
      if (!fs.existsSync(resolved)) broken.push(`${where}: ${resolved} does not exist`);
      else if (!shipped(resolved)) broken.push(`${where}: ${resolved} is not in package.json's files`);
      else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
        broken.push(`${where}: ${resolved} has no heading #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test("external links are https", () => {
    expect(all.filter((l) => l.target.startsWith("http:")).map((l) => `${l.page}:${l.line} ${l.target}`)).toEqual([]);
  });
});

describe("code blocks", () => {
  const blocks = PAGES.flatMap((page) => codeBlocks(page));

  test("each block is run by the snippet test, run elsewhere, output, or marked not-run with a reason", () => {
    const unaccounted = blocks.filter(
      (b) =>
        !RUNNABLE_LANGS.has(b.lang) &&
        !OUTPUT_LANGS.has(b.lang) &&
        notRunReason(b) === undefined &&
        !RUN_ELSEWHERE.test(b.marker ?? "") &&
        b.marker !== INSTALL,
    );
    expect(unaccounted.map((b) => `${b.page}:${b.line} (${b.lang || "no language"})`)).toEqual([]);
  });

  // 15 now: servers, Postgres, hub downloads, hours-long measurements, a user's own folders (each says which).
  test("the not-run list stays short", () => {
    const marked = blocks.filter((b) => notRunReason(b) !== undefined);
    expect(marked.length).toBeLessThanOrEqual(15);
  });

  test("install blocks hold only npm install lines, of packages this repository's tests have (so snippets resolve them)", () => {
    const known = new Set([
      "two-stage-retriever",
      ...Object.keys(pkg.dependencies),
      ...Object.keys(pkg.peerDependencies),
      ...Object.keys(pkg.devDependencies),
    ]);
    const wrong: string[] = [];
    for (const block of blocks.filter((b) => b.marker === INSTALL)) {
      for (const line of block.code.split("\n")) {
        if (!/^npm install [^-]/.test(line))
          wrong.push(`${block.page}:${block.line}: "${line}" is not an npm install line`);
      }
    }
    for (const page of PAGES) {
      for (const name of installedPackages(page)) if (!known.has(name)) wrong.push(`${page}: installs ${name}`);
    }
    expect(wrong).toEqual([]);
  });

  test("every package a snippet imports is on its page's install line (or comes with one that is)", () => {
    const missing: string[] = [];
    for (const block of blocks.filter((b) => RUNNABLE_LANGS.has(b.lang))) {
      const installed = new Set(installedPackages(block.page));
      // What the package itself depends on arrives with it.
      if (installed.has("two-stage-retriever")) for (const dep of Object.keys(pkg.dependencies)) installed.add(dep);
      for (const name of importedPackages(block.code)) {
        if (!installed.has(name)) missing.push(`${block.page}:${block.line} imports ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("user pages", () => {
  const userPages = PAGES.filter((page) => !CONTRIBUTOR_PAGES.has(page));

  test("name no repository file the package does not ship", () => {
    const found: string[] = [];
    for (const page of userPages) {
      fs.readFileSync(page, "utf8")
        .split("\n")
        .forEach((text, i) => {
          if (/^\s*<!--.*-->\s*$/.test(text)) return; // markers may name the script that runs a block
          for (const m of text.matchAll(/(?<![\w./-])(src|__tests__|bench|scripts|\.ci)\/[\w./-]*/g)) {
            if (!shipped(m[0])) found.push(`${page}:${i + 1}: ${m[0]}`);
          }
        });
    }
    expect(found).toEqual([]);
  });

  test("README.md stays a short page for package users", () => {
    expect(fs.readFileSync("README.md", "utf8").split("\n").length).toBeLessThanOrEqual(260);
  });
});

test('no page or message dates a behaviour by a release ("since 0.2", "the 0.1 name"): there is one, package.json\'s', () => {
  const pattern =
    /\b(?:since|until|before) v?\d+\.\d+(?:\.\d+)?\b|\bthe v?\d+\.\d+(?:\.\d+)? (?:name|order|API|layout|format)\b/g;
  const hits: string[] = [];
  for (const file of sources(SRC)) {
    const strings = fs.readFileSync(file, "utf8").match(/"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g) ?? [];
    for (const m of strings.join("\n").matchAll(pattern)) hits.push(`${path.relative(".", file)}: "${m[0]}"`);
  }
  for (const page of PAGES) {
    for (const m of fs.readFileSync(page, "utf8").matchAll(pattern)) hits.push(`${page}: "${m[0]}"`);
  }
  expect(hits).toEqual([]);
});
