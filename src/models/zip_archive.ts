import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

import yauzl from "yauzl";

import { ModelLoadError } from "../errors.js";

/** One file entry of an archive, as its central directory declares it. */
export interface ArchiveEntry {
  /** The path inside the archive (`/`-separated, relative, no `..`). */
  name: string;
  /** Declared uncompressed size in bytes. */
  size: number;
}

/** What was written for one extracted entry. */
export interface ExtractedFile {
  sha256: string;
  bytes: number;
}

/** Most entries an archive may list (the central directory is read entry by entry; this bounds the listing). */
const MAX_ENTRIES = 100_000;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    );
  });
}

/** Calls `visit` for every central-directory entry, one at a time, then closes the archive. */
async function eachEntry(
  file: string,
  visit: (entry: yauzl.Entry, zip: yauzl.ZipFile) => Promise<void>,
): Promise<void> {
  const zip = await openZip(file);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("error", reject);
      zip.on("end", () => resolve());
      zip.on("entry", (entry: yauzl.Entry) => {
        visit(entry, zip).then(
          () => zip.readEntry(),
          (error: unknown) => reject(error),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

function unsafe(file: string, detail: string, cause?: unknown): ModelLoadError {
  return new ModelLoadError(
    `Refusing archive ${file}: ${detail}. Archives are untrusted: every entry must be a regular file with a relative ` +
      "path that stays inside the target (no '../', no absolute path, no symlink). Nothing was written. Check where " +
      "the archive came from; if it is genuine, extract the model files yourself and import the folder.",
    cause === undefined ? {} : { cause },
  );
}

/**
 * Lists the files of a zip archive (`.zip`, `.jar`, `.whl`). The whole archive is refused when any entry is unsafe:
 * an absolute path or one climbing out with `..` (zip-slip), a symlink, or an encrypted entry.
 */
export async function listArchive(file: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  try {
    await eachEntry(file, async (entry) => {
      const name = entry.fileName;
      if (/^([A-Za-z]:|[\\/])/.test(name) || name.split(/[\\/]/).includes("..")) {
        throw unsafe(file, `entry '${name}' would land outside the target folder`);
      }
      const unixMode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      if (unixMode === S_IFLNK) throw unsafe(file, `entry '${name}' is a symbolic link`);
      if (entry.isEncrypted()) throw unsafe(file, `entry '${name}' is encrypted`);
      if (!name.endsWith("/")) entries.push({ name, size: entry.uncompressedSize });
      if (entries.length > MAX_ENTRIES) {
        throw unsafe(file, `it lists more than ${MAX_ENTRIES} files, more than any model archive needs`);
      }
    });
  } catch (error) {
    if (ModelLoadError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/absolute path|invalid relative path|invalid characters/.test(message)) {
      throw unsafe(file, `an entry would land outside the target folder (${message})`, error);
    }
    throw new ModelLoadError(
      `${file} is not a readable zip archive (${message}). Pass a .jar, .whl or .zip file, a model folder, or a .onnx file.`,
      { cause: error },
    );
  }
  return entries;
}

/** Counts the bytes passing through and stops the stream once they exceed `limit`. */
function byteCounter(limit: number, onBytes: (n: number) => void, tooMany: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      onBytes(chunk.length);
      if (seen > limit) callback(tooMany());
      else callback(null, chunk);
    },
  });
}

/**
 * Extracts the entries named in `targets` (entry name → destination file, which must lie inside `root`), streaming
 * each through a byte counter: the declared sizes are checked against `maxBytes` before anything is unpacked, and
 * the bytes actually inflated are counted too, so an entry that lies about its size stops at the bound.
 */
export async function extractEntries(
  file: string,
  targets: ReadonlyMap<string, string>,
  root: string,
  maxBytes: number,
): Promise<Map<string, ExtractedFile>> {
  const listed = await listArchive(file);
  const declared = listed.filter((entry) => targets.has(entry.name)).reduce((sum, entry) => sum + entry.size, 0);
  if (declared > maxBytes) {
    throw new ModelLoadError(
      `Refusing archive ${file}: its model files declare ${declared} bytes uncompressed, more than the bound of ` +
        `${maxBytes} bytes (maxUncompressedBytes). Nothing was unpacked. If the archive is genuine, raise ` +
        "maxUncompressedBytes (--max-bytes on the command line).",
    );
  }
  const resolvedRoot = path.resolve(root);
  for (const destination of targets.values()) {
    const resolved = path.resolve(destination);
    if (!resolved.startsWith(resolvedRoot + path.sep)) {
      throw unsafe(file, `destination ${resolved} lies outside ${resolvedRoot}`);
    }
  }
  const out = new Map<string, ExtractedFile>();
  let total = 0;
  await eachEntry(file, async (entry, zip) => {
    const destination = targets.get(entry.fileName);
    if (destination === undefined) return;
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (error, readable) => (error ? reject(error) : resolve(readable))),
    );
    const hash = createHash("sha256");
    let bytes = 0;
    const counter = byteCounter(
      Math.min(entry.uncompressedSize, maxBytes - total),
      (n) => {
        bytes += n;
      },
      () =>
        new ModelLoadError(
          `Refusing archive ${file}: entry '${entry.fileName}' inflates past ${
            bytes > entry.uncompressedSize
              ? `its declared size of ${entry.uncompressedSize} bytes`
              : `the bound of ${maxBytes} bytes`
          } (a zip bomb or a corrupt archive). The partial file was discarded.`,
        ),
    );
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(stream, counter, hasher, fs.createWriteStream(destination, { flags: "wx" }));
    } catch (error) {
      if (ModelLoadError.isInstance(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new ModelLoadError(
        /too many bytes|bytes in the stream/.test(message)
          ? `Refusing archive ${file}: entry '${entry.fileName}' inflates past its declared size of ` +
              `${entry.uncompressedSize} bytes (a zip bomb or a corrupt archive). The partial file was discarded.`
          : `Could not extract '${entry.fileName}' from ${file}: ${message}. Check the archive (unzip -t).`,
        { cause: error },
      );
    }
    total += bytes;
    out.set(entry.fileName, { sha256: hash.digest("hex"), bytes });
  });
  return out;
}
