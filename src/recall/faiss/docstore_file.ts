import { createHash } from "node:crypto";
import fs from "node:fs";

import { IndexError } from "../../errors.js";
import { step } from "../index_folder/atomic_directory.js";
import { CheckedFileWriter } from "../index_folder/checked_write.js";

/** The document store file of the FaissStore layout: `[[id, document][], {label: id}]`. */
export const DOCSTORE_FILE = "docstore.json";

/** Bytes buffered before each write when streaming the docstore out (tests lower it to get many write steps). */
export const docstoreTuning = { writeChunkBytes: 1 << 20 };
/** A single-JSON docstore (FaissStore's) larger than this cannot be parsed: V8 strings stop near 512 MB. */
const MAX_SINGLE_JSON_BYTES = 500 * 1024 * 1024;

/** One stored document. */
export interface DocstoreEntry {
  pageContent: string;
  metadata: Record<string, unknown>;
  id?: string;
}

/**
 * Writes the docstore line by line — valid JSON in FaissStore's layout, one document per line — through a 1 MB
 * buffer, so its size is bounded by the disk, not by V8's ~512 MB string limit; fsynced. Returns its sha256 (hex).
 *
 * ```
 * [[
 * ["id-1",{"pageContent":"…","metadata":{…},"id":"id-1"}],
 * ],{
 * "0":"id-1"
 * }]
 * ```
 */
export function writeDocstore(
  file: string,
  docs: ReadonlyMap<string, DocstoreEntry>,
  labels: readonly string[],
): string {
  const writer = new CheckedFileWriter(file);
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    const bytes = Buffer.from(pending.join(""), "utf8");
    pending = [];
    pendingLength = 0;
    writer.write(bytes); // a full disk names the docstore, not the folder
    step("docstore-chunk");
  };
  const put = (text: string) => {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= docstoreTuning.writeChunkBytes) flush();
  };
  try {
    put("[[\n");
    let first = true;
    for (const [id, doc] of docs) {
      let line: string;
      try {
        line = JSON.stringify([id, { pageContent: doc.pageContent, metadata: doc.metadata, id }]);
      } catch (error) {
        throw new IndexError(
          `Document '${id}' cannot be saved: its metadata no longer serialises to JSON (${(error as Error).message}); ` +
            "it was changed after it was added. Metadata is checked when documents are added; do not mutate it later.",
          { cause: error },
        );
      }
      put(first ? line : `,\n${line}`);
      first = false;
    }
    put("\n],{\n");
    labels.forEach((id, label) =>
      put(`${label === 0 ? "" : ",\n"}${JSON.stringify(String(label))}:${JSON.stringify(id)}`),
    );
    put("\n}]\n");
    flush();
  } catch (error) {
    writer.abandon();
    throw error;
  }
  return writer.finish();
}

/** A docstore as read from disk: entries and the label → id mapping, not yet checked, with the file's sha256. */
export interface RawDocstore {
  entries: unknown[];
  mapping: Record<string, unknown>;
  sha256: string;
}

function damaged(file: string, what: string): IndexError {
  return new IndexError(`${file} is corrupt: ${what}. Restore the index folder from a backup or rebuild it.`);
}

/** Splits a file into lines (without the newline), reading 4 MB at a time, hashing every byte. */
function* lines(file: string, hash: ReturnType<typeof createHash>): Generator<string> {
  const fd = fs.openSync(file, "r");
  const chunk = Buffer.alloc(4 << 20);
  let carry: Buffer[] = [];
  try {
    for (let position = 0; ;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      position += n;
      const data = chunk.subarray(0, n);
      hash.update(data);
      let start = 0;
      for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10, start)) {
        carry.push(data.subarray(start, newline));
        yield Buffer.concat(carry).toString("utf8");
        carry = [];
        start = newline + 1;
      }
      if (start < n) carry.push(Buffer.from(data.subarray(start)));
    }
    if (carry.length > 0) yield Buffer.concat(carry).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

function parseLine(file: string, line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw damaged(file, `line ${number} is not valid JSON`);
  }
}

/**
 * Reads a docstore: the line layout {@link writeDocstore} writes, streamed line by line, or a single JSON
 * document (FaissStore's, or 0.1.0's), refused with a clear message when too large for V8 to parse.
 */
export function readDocstore(file: string): RawDocstore {
  const size = fs.statSync(file).size;
  const head = Buffer.alloc(3);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 3, 0);
  } finally {
    fs.closeSync(fd);
  }
  const hash = createHash("sha256");
  if (head.toString("latin1") !== "[[\n") {
    if (size > MAX_SINGLE_JSON_BYTES) {
      throw new IndexError(
        `${file} is ${(size / 2 ** 20).toFixed(0)} MB of single-line JSON (FaissStore's layout); V8 cannot parse a ` +
          "string over ~512 MB. Rebuild the index with this package, which writes the docstore one document per line.",
      );
    }
    const bytes = fs.readFileSync(file);
    hash.update(bytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch (error) {
      throw new IndexError(`${file} is not valid JSON; the index is corrupt.`, { cause: error });
    }
    if (!Array.isArray(parsed) || !Array.isArray(parsed[0]) || typeof parsed[1] !== "object" || parsed[1] === null) {
      throw new IndexError(`${file} does not have the FaissStore layout [[id, document][], {label: id}].`);
    }
    return {
      entries: parsed[0] as unknown[],
      mapping: parsed[1] as Record<string, unknown>,
      sha256: hash.digest("hex"),
    };
  }
  const entries: unknown[] = [];
  const mapping: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let section: "start" | "entries" | "mapping" | "end" = "start";
  let number = 0;
  for (const raw of lines(file, hash)) {
    number += 1;
    const line = raw.endsWith(",") ? raw.slice(0, -1) : raw;
    if (line === "" && section !== "start") continue;
    if (section === "start") {
      if (line !== "[[") throw damaged(file, "line 1 is not '[['");
      section = "entries";
    } else if (section === "entries") {
      if (line === "],{") section = "mapping";
      else entries.push(parseLine(file, line, number));
    } else if (section === "mapping") {
      if (line === "}]") section = "end";
      else {
        const pair = parseLine(file, `{${line}}`, number) as Record<string, unknown>;
        for (const [label, id] of Object.entries(pair)) {
          if (label in mapping) throw damaged(file, `label ${label} is mapped twice (line ${number})`);
          mapping[label] = id;
        }
      }
    } else {
      throw damaged(file, `unexpected content after the end (line ${number})`);
    }
  }
  if (section !== "end") throw damaged(file, "it ends early (truncated)");
  return { entries, mapping, sha256: hash.digest("hex") };
}
