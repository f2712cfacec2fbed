import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";

import { InvalidArgumentError } from "../errors.js";
import { describeValue } from "../validation.js";
import { documentText } from "../eval/beir_dataset.js";
import { BM25_FILES } from "../recall/bm25/bm25_index.js";
import { MANIFEST_FILE } from "../recall/index_folder/index_manifest.js";

const TEXT_EXTENSIONS = new Set([".txt", ".md", ".markdown"]);

/** An input left out, and why: a file or folder (`path`), or one record of a .jsonl file (`path:line`). */
export interface SkippedInput {
  path: string;
  reason: string;
}

/** Options of {@link expandInputs}. */
export interface ExpandInputsOptions {
  /**
   * Follow symbolic links that lead out of the folder named on the command line (links inside it are always
   * followed). Link loops and folders reached twice are skipped either way.
   * @default false
   */
  followSymlinks?: boolean;
}

/**
 * File sets that mark a folder as an index this package (or LangChain's FaissStore) wrote: walking inputs skips such
 * a folder, so an index kept inside its own input folder is never read as documents.
 */
const INDEX_MARKER_SETS: readonly (readonly string[])[] = [
  [MANIFEST_FILE],
  ["faiss.index", "docstore.json"],
  [BM25_FILES.manifest, BM25_FILES.docstore],
];

/** The marker files that make `dir` an index folder, if any. */
function indexMarkers(names: ReadonlySet<string>): string | undefined {
  return INDEX_MARKER_SETS.find((set) => set.every((name) => names.has(name)))?.join(" + ");
}

/** Whether a folder is a BEIR collection: corpus.jsonl, queries.jsonl and qrels (a folder or qrels.tsv). */
function isBeirFolder(names: ReadonlySet<string>): boolean {
  return names.has("corpus.jsonl") && names.has("queries.jsonl") && (names.has("qrels") || names.has("qrels.tsv"));
}

function inside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * Files named on the command line, folders expanded (recursively) to their .txt/.md/.jsonl files, sorted; the files
 * left out for their extension (`unsupported`), and what else was skipped, each with its reason (`skipped`):
 * symbolic links leading out of the folder named (unless `followSymlinks`), broken links, link loops and folders
 * reached twice, index folders (see {@link INDEX_MARKER_SETS}), and the queries of a BEIR folder (only its
 * corpus.jsonl is read). A path named on the command line is read as named.
 */
export function expandInputs(
  inputs: string[],
  options: ExpandInputsOptions = {},
): { files: string[]; unsupported: string[]; skipped: SkippedInput[] } {
  const files: string[] = [];
  const unsupported: string[] = [];
  const skipped: SkippedInput[] = [];
  /** Folders and files already read, by device and inode: a second way to one is skipped. */
  const seen = new Map<string, string>();
  const visit = (entry: string, root: string | undefined, ancestors: ReadonlySet<string>) => {
    let stat: fs.Stats;
    if (root !== undefined && fs.lstatSync(entry).isSymbolicLink()) {
      let target: string;
      try {
        target = fs.realpathSync(entry);
        stat = fs.statSync(target);
      } catch {
        skipped.push({ path: entry, reason: "a broken symbolic link" });
        return;
      }
      if (!options.followSymlinks && !inside(root, target)) {
        skipped.push({
          path: entry,
          reason: `a symbolic link to ${target}, outside ${root} (pass --follow-symlinks to read it)`,
        });
        return;
      }
    } else {
      stat = fs.statSync(entry);
    }
    const key = `${stat.dev}:${stat.ino}`;
    if (ancestors.has(key)) {
      skipped.push({ path: entry, reason: `a link loop: it leads back to ${seen.get(key)}` });
      return;
    }
    if (seen.has(key)) {
      skipped.push({ path: entry, reason: `already read as ${seen.get(key)}` });
      return;
    }
    seen.set(key, entry);
    if (stat.isDirectory()) {
      const names = fs.readdirSync(entry).sort();
      const present = new Set(names);
      const markers = indexMarkers(present);
      if (markers) {
        skipped.push({ path: entry, reason: `an index folder (it holds ${markers}), not documents` });
        return;
      }
      const beir = isBeirFolder(present);
      const inner = new Set(ancestors).add(key);
      const folderRoot = root ?? fs.realpathSync(entry);
      for (const name of names) {
        const child = path.join(entry, name);
        if (beir && name !== "corpus.jsonl") {
          skipped.push({ path: child, reason: "a BEIR folder: only its corpus.jsonl is indexed" });
          continue;
        }
        visit(child, folderRoot, inner);
      }
      return;
    }
    const ext = path.extname(entry).toLowerCase();
    if (TEXT_EXTENSIONS.has(ext) || ext === ".jsonl") files.push(entry);
    else unsupported.push(entry);
  };
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new InvalidArgumentError(`Input '${input}' does not exist.`);
    visit(input, undefined, new Set());
  }
  if (files.length === 0) {
    const reasons = [
      ...(unsupported.length ? [describeSkipped(unsupported)] : []),
      ...skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`),
    ];
    throw new InvalidArgumentError(
      `No .txt, .md or .jsonl files in: ${inputs.join(", ")}${reasons.length ? ` (${reasons.join("; ")})` : ""}.`,
    );
  }
  return { files, unsupported, skipped };
}

/** "3 files skipped: .pdf ×2, .png ×1 (only .txt, .md and .jsonl are read)". */
function describeSkipped(unsupported: string[]): string {
  const counts = new Map<string, number>();
  for (const file of unsupported) {
    const ext = path.extname(file).toLowerCase() || "(no extension)";
    counts.set(ext, (counts.get(ext) ?? 0) + 1);
  }
  const parts = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ext, n]) => `${ext} ×${n}`)
    .join(", ");
  return `${unsupported.length} file${unsupported.length === 1 ? "" : "s"} skipped: ${parts} (only .txt, .md and .jsonl are read)`;
}

/**
 * A text file's content, or a reason to skip it: a NUL byte or invalid UTF-8 means a binary file (or another
 * encoding) that would be indexed as garbage chunks.
 */
export function readTextFile(file: string): { text: string } | { skip: string } {
  const bytes = fs.readFileSync(file);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { skip: `it holds a NUL byte at offset ${nul} (a binary file, or UTF-16 text)` };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { skip: "it is not valid UTF-8 (convert it with iconv first if it is text in another encoding)" };
  }
}

/** The records of a .jsonl file, each a JSON object; anything else is an error naming file and line. */
function readJsonlRecords(file: string): { row: Record<string, unknown>; line: number }[] {
  const read = readTextFile(file);
  if ("skip" in read) throw new InvalidArgumentError(`${file} cannot be read as JSON lines: ${read.skip}.`);
  const records: { row: Record<string, unknown>; line: number }[] = [];
  read.text.split("\n").forEach((text, i) => {
    if (text.trim() === "") return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (error) {
      throw new InvalidArgumentError(
        `${file}:${i + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)}). Each line must be one JSON object.`,
      );
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new InvalidArgumentError(
        `${file}:${i + 1}: expected a JSON object like {"_id": "d1", "text": "…"}; got ${row === null ? "null" : Array.isArray(row) ? "an array" : JSON.stringify(row)}.`,
      );
    }
    records.push({ row: row as Record<string, unknown>, line: i + 1 });
  });
  return records;
}

/** Options of {@link readInputs}. */
export interface ReadInputOptions extends ExpandInputsOptions {
  /**
   * Receives a message for each skipped file (binary or not UTF-8).
   * @default writes the message to stderr
   */
  warn?: (message: string) => void;
}

/** The documents read from the inputs, and everything left out with its reason. */
export interface InputDocuments {
  documents: Document[];
  /** Files, folders and .jsonl records not indexed (`file:line` for a record), in the order met. */
  skipped: SkippedInput[];
}

const TEXT_FIELDS = ["pageContent", "text", "title"] as const;

/**
 * Reads inputs as Documents with a stable `metadata.docId`: .txt/.md files are split into chunks
 * (`<file>#<n>`); .jsonl lines are records kept whole (`_id`/`id`, `title`, `text` or `pageContent`; BEIR corpora
 * load as they are, so their ids match the judgments). A malformed line, or a record whose text (or title, or id) is
 * not a string, is an error naming file and line; a record with empty text is skipped and named in `skipped`; a
 * .txt/.md file that is binary or not UTF-8 is skipped with a warning. Folders are walked as {@link expandInputs}
 * says.
 */
export async function readInputs(
  inputs: string[],
  chunkSize: number,
  chunkOverlap: number,
  options: ReadInputOptions = {},
): Promise<InputDocuments> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new InvalidArgumentError(`--chunk-size must be a positive integer; got ${chunkSize}.`);
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new InvalidArgumentError(
      `--chunk-overlap (${chunkOverlap}) must be a whole number from 0 to less than --chunk-size (${chunkSize}): ` +
        `consecutive chunks share that many characters. Try --chunk-overlap ${Math.floor(chunkSize / 10)}.`,
    );
  }
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize, chunkOverlap });
  const docs: Document[] = [];
  const { files, unsupported, skipped } = expandInputs(inputs, options);
  if (unsupported.length > 0) warn(`${describeSkipped(unsupported)}.`);
  for (const file of files) {
    const source = path.relative(process.cwd(), file) || file;
    if (path.extname(file).toLowerCase() === ".jsonl") {
      for (const { row, line } of readJsonlRecords(file)) {
        for (const field of TEXT_FIELDS) {
          const value = row[field];
          if (value !== undefined && value !== null && typeof value !== "string") {
            throw new InvalidArgumentError(
              `${file}:${line}: "${field}" is ${describeValue(value)}, not a string. Each record's text must be a ` +
                'string, e.g. {"_id": "d1", "text": "…"}; fix or drop that line.',
            );
          }
        }
        const rawId = row._id ?? row.id;
        if (rawId !== undefined && rawId !== null && typeof rawId !== "string" && typeof rawId !== "number") {
          throw new InvalidArgumentError(
            `${file}:${line}: the id is ${describeValue(rawId)}; expected a string or a number, e.g. {"_id": "d1", …}.`,
          );
        }
        const id = rawId ?? `${source}:${line}`;
        const text =
          typeof row.pageContent === "string"
            ? row.pageContent
            : documentText({
                id: String(id),
                title: typeof row.title === "string" && row.title.trim() !== "" ? row.title : "",
                text: typeof row.text === "string" ? row.text : "",
              });
        if (text.trim() === "") {
          const given = TEXT_FIELDS.filter((field) => typeof row[field] === "string");
          skipped.push({
            path: `${source}:${line}`,
            reason: given.length ? `empty text (${given.join(", ")} blank)` : "no text (no text, title or pageContent)",
          });
          continue;
        }
        docs.push(new Document({ pageContent: text, metadata: { docId: String(id), source } }));
      }
      continue;
    }
    const read = readTextFile(file);
    if ("skip" in read) {
      warn(`Skipping ${source}: ${read.skip}.`);
      skipped.push({ path: source, reason: read.skip });
      continue;
    }
    const chunks = await splitter.splitText(read.text);
    if (chunks.length === 0) skipped.push({ path: source, reason: "no text (empty or blank)" });
    chunks.forEach((chunk, i) =>
      docs.push(new Document({ pageContent: chunk, metadata: { docId: `${source}#${i + 1}`, source, chunk: i + 1 } })),
    );
  }
  if (docs.length === 0) {
    const shown = skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`);
    throw new InvalidArgumentError(
      `The inputs hold no text: ${inputs.join(", ")}${shown.length ? ` (skipped ${skipped.length}: ${shown.join("; ")}${skipped.length > 5 ? "; …" : ""})` : ""}.`,
    );
  }
  return { documents: docs, skipped };
}

/** {@link readInputs}, the documents only. */
export async function readInputDocuments(
  inputs: string[],
  chunkSize: number,
  chunkOverlap: number,
  options: ReadInputOptions = {},
): Promise<Document[]> {
  return (await readInputs(inputs, chunkSize, chunkOverlap, options)).documents;
}

/** The summary line of what was skipped: "Skipped 3: a.jsonl:2 (empty text); …" (the first `shown`), or "". */
export function describeSkippedInputs(skipped: readonly SkippedInput[], shown = 20): string {
  if (skipped.length === 0) return "";
  const listed = skipped.slice(0, shown).map((s) => `  ${s.path}: ${s.reason}`);
  const more = skipped.length > shown ? `\n  … and ${skipped.length - shown} more (--json lists every one)` : "";
  return `Skipped ${skipped.length}:\n${listed.join("\n")}${more}`;
}
