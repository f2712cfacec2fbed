// The on-disk format of a FaissVectorStore, apart from the store: `faiss.index` (a flat index, see
// flat_index_file.ts) and `docstore.json` (see docstore_file.ts) in a data folder of an index folder, the store's
// `index` entry of the manifest, and FaissStore's plain layout (the two files at the top, no manifest). The reader
// checks the whole folder before faiss sees any of it; any fault is an IndexError naming the file.
import fs from "node:fs";
import path from "node:path";

import { IndexError, InvalidArgumentError } from "../../errors.js";
import { describeValue } from "../../validation.js";
import { step } from "../index_folder/atomic_directory.js";
import { writeFileChecked } from "../index_folder/checked_write.js";
import { type IndexPart, MANIFEST_FILE, readIndexManifest } from "../index_folder/index_manifest.js";
import { DOCSTORE_FILE, readDocstore, writeDocstore } from "./docstore_file.js";

export { DOCSTORE_FILE } from "./docstore_file.js";
export { MANIFEST_FILE } from "../index_folder/index_manifest.js";
import { type FlatIndexScan, scanFlatIndex } from "./flat_index_file.js";

export const INDEX_FILE = "faiss.index";
export const MANIFEST_VERSION = 1;
/** Top-level files that make a folder a FAISS index that `save` may replace (FaissStore's layout). */
export const FAISS_MARKERS = [INDEX_FILE, DOCSTORE_FILE] as const;

export type StoredDocument = { pageContent: string; metadata: Record<string, unknown>; id?: string };

/** The store's part of the manifest. */
interface IndexManifestEntry {
  version: number;
  kind: "faiss";
  dim: number;
  count: number;
  metric: "ip";
  data: string;
  checksums: Record<string, string>;
}

/** The store's entry of a manifest, checked, or undefined for a manifest without one (0.1.0's CLI manifest). */
export function indexEntry(
  manifest: Record<string, unknown> | undefined,
  file: string,
): IndexManifestEntry | undefined {
  const entry = manifest?.index as Partial<IndexManifestEntry> | undefined;
  if (entry === undefined) return undefined;
  const ok =
    typeof entry === "object" &&
    entry !== null &&
    entry.kind === "faiss" &&
    typeof entry.data === "string" &&
    /^data-[\w-]+$/.test(entry.data) &&
    Number.isInteger(entry.dim) &&
    Number.isInteger(entry.count) &&
    typeof entry.checksums === "object" &&
    entry.checksums !== null;
  if (!ok) throw new IndexError(`${file}: the "index" entry is malformed; the index folder is damaged. Rebuild it.`);
  if ((entry.version ?? 0) > MANIFEST_VERSION) {
    throw new IndexError(
      `${file} was written by a newer two-stage-retriever (index format ${entry.version}; this one reads ${MANIFEST_VERSION}). Upgrade the package.`,
    );
  }
  return entry as IndexManifestEntry;
}

/**
 * Splits `save`'s `extraFiles` into the caller's manifest fields (a `two-stage.json` entry, a JSON object) and the
 * other files (plain names, text content; never the store's own files, a path or a dot file).
 */
export function parseExtraFiles(extraFiles: Record<string, string>): {
  callerManifest: Record<string, unknown>;
  extras: [string, string][];
} {
  if (typeof extraFiles !== "object" || extraFiles === null) {
    throw new InvalidArgumentError(
      `extraFiles must be an object of file name → text; got ${describeValue(extraFiles)}.`,
    );
  }
  let callerManifest: Record<string, unknown> = {};
  const extras: [string, string][] = [];
  for (const [name, content] of Object.entries(extraFiles)) {
    const base = path.basename(name);
    if (
      typeof content !== "string" ||
      base !== name ||
      [INDEX_FILE, DOCSTORE_FILE].includes(base) ||
      base.startsWith(".") ||
      base.startsWith("data-")
    ) {
      throw new InvalidArgumentError(
        `extraFiles['${name}'] must be a plain file name (not ${INDEX_FILE}, ${DOCSTORE_FILE}, a path or a dot file) with text content.`,
      );
    }
    if (base === MANIFEST_FILE) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(content);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new InvalidArgumentError(
          `extraFiles['${MANIFEST_FILE}'] must be a JSON object; its fields are merged into the manifest.`,
        );
      }
      callerManifest = parsed as Record<string, unknown>;
    } else {
      extras.push([base, content]);
    }
  }
  return { callerManifest, extras };
}

/** What the store holds, for {@link faissPart}. */
export interface FaissContents {
  dim: number;
  count: number;
  /** The serialised index (called once, while the part is written). */
  index: () => Buffer;
  docs: ReadonlyMap<string, StoredDocument>;
  labels: readonly string[];
}

/** The store as one part of an index folder: its manifest entry and the files it writes into the staging folder. */
export function faissPart(contents: FaissContents, extras: readonly [string, string][] = []): IndexPart {
  return {
    entry: "index",
    fields: { version: MANIFEST_VERSION, kind: "faiss", dim: contents.dim, count: contents.count, metric: "ip" },
    write: (staging) => {
      const checksums: Record<string, string> = {};
      checksums[INDEX_FILE] = writeFileChecked(path.join(staging, INDEX_FILE), contents.index());
      step("index-written");
      checksums[DOCSTORE_FILE] = writeDocstore(path.join(staging, DOCSTORE_FILE), contents.docs, contents.labels);
      step("docstore-written");
      for (const [name, content] of extras) {
        checksums[name] = writeFileChecked(path.join(staging, name), content);
        step(`extra-written:${name}`);
      }
      return checksums;
    },
  };
}

/** The data folder the manifest currently names, or undefined (no manifest, or one that cannot be read). */
export function currentDataFolder(target: string): string | undefined {
  try {
    return indexEntry(readIndexManifest(target), "")?.data;
  } catch {
    return undefined;
  }
}

/** A FAISS folder read and checked whole, before faiss reads the index file. */
export interface FaissFolder {
  /** The flat index file faiss is to read. */
  indexFile: string;
  /** Its header, vector norms and first bad row. */
  scan: FlatIndexScan;
  /** The documents by id. */
  docs: Map<string, StoredDocument>;
  /** The document id of each vector (label), one-to-one with `docs`. */
  labels: string[];
  layout: "manifest" | "legacy";
  /** True when both checksums were recorded and matched. */
  verified: boolean;
}

/**
 * Reads a folder saved by FaissVectorStore (any version) or by `FaissStore.save`: the manifest's checksums (when
 * present and `verifyChecksums`), every header field of `faiss.index`, every vector (finite and non-zero), every
 * docstore entry (`pageContent` a string, `metadata` an object), and labels ↔ ids a bijection.
 */
export function readFaissFolder(directory: string, target: string, verifyChecksums: boolean): FaissFolder {
  const manifestFile = path.join(target, MANIFEST_FILE);
  const entry = indexEntry(readIndexManifest(target), manifestFile);
  const folder = entry ? path.join(target, entry.data) : target;
  const indexFile = path.join(folder, INDEX_FILE);
  const docstoreFile = path.join(folder, DOCSTORE_FILE);
  for (const file of [indexFile, docstoreFile]) {
    if (!fs.existsSync(file)) {
      if (entry) {
        throw new IndexError(
          `${file} is missing although ${manifestFile} names it: the index folder is damaged. Restore it or rebuild the index.`,
        );
      }
      throw new IndexError(
        `${path.join(directory, path.basename(file))} is missing: '${directory}' is not a saved index (expected ${INDEX_FILE} and ${DOCSTORE_FILE}).`,
      );
    }
  }
  const verify = entry !== undefined && verifyChecksums;
  const scan = scanFlatIndex(indexFile, { sha256: verify });
  if (verify && scan.sha256 !== entry.checksums[INDEX_FILE]) {
    throw new IndexError(
      `${indexFile} does not match the checksum in ${manifestFile}: the file was changed or damaged after it was saved. Restore it from a backup or rebuild the index.`,
    );
  }
  const raw = readDocstore(docstoreFile);
  if (verify && raw.sha256 !== entry.checksums[DOCSTORE_FILE]) {
    throw new IndexError(
      `${docstoreFile} does not match the checksum in ${manifestFile}: the file was changed or damaged after it was saved. Restore it from a backup or rebuild the index.`,
    );
  }
  if (entry && (entry.dim !== scan.dim || entry.count !== scan.ntotal)) {
    throw new IndexError(
      `${manifestFile} records ${entry.count} vectors of dimension ${entry.dim}, but ${indexFile} holds ${scan.ntotal} of dimension ${scan.dim}. Rebuild the index.`,
    );
  }
  const { ntotal } = scan;
  const docs = checkedDocuments(raw.entries, docstoreFile);
  const labels = checkedLabels(raw.mapping, ntotal, docs, directory);
  if (scan.badRow >= 0) {
    throw new IndexError(
      `${indexFile}: vector ${scan.badRow} (document '${labels[scan.badRow]}') is all zeros or not finite; the file is damaged. Rebuild the index.`,
    );
  }
  return {
    indexFile,
    scan,
    docs,
    labels,
    layout: entry ? "manifest" : "legacy",
    verified: verify,
  };
}

/** The docstore's entries as documents by id: each an `[id, { pageContent, metadata }]` pair, no id twice. */
function checkedDocuments(entries: readonly unknown[], docstoreFile: string): Map<string, StoredDocument> {
  const docs = new Map<string, StoredDocument>();
  entries.forEach((item, position) => {
    const where = `${docstoreFile}: entry ${position}`;
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") {
      throw new IndexError(`${where} is not an [id, document] pair. The docstore is corrupt; rebuild the index.`);
    }
    const [id, doc] = item as [string, Partial<StoredDocument> | null];
    if (typeof doc !== "object" || doc === null || typeof doc.pageContent !== "string") {
      throw new IndexError(
        `${where} ('${id}') has no pageContent string (got ${describeValue(doc?.pageContent)}). The docstore is corrupt; rebuild the index.`,
      );
    }
    const metadata = doc.metadata ?? {};
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      throw new IndexError(
        `${where} ('${id}') has metadata ${describeValue(metadata)}, not an object. The docstore is corrupt.`,
      );
    }
    if (docs.has(id)) {
      throw new IndexError(`${where}: document id '${id}' appears twice. The docstore is corrupt; rebuild the index.`);
    }
    docs.set(id, { pageContent: doc.pageContent, metadata: metadata as Record<string, unknown>, id });
  });
  return docs;
}

/** The document id of each vector, from the docstore's label mapping: labels and ids one-to-one. */
function checkedLabels(
  mapping: Record<string, unknown>,
  ntotal: number,
  docs: ReadonlyMap<string, StoredDocument>,
  directory: string,
): string[] {
  const mappingKeys = Object.keys(mapping);
  if (mappingKeys.length !== ntotal) {
    throw new IndexError(
      `${directory}: the index holds ${ntotal} vectors but docstore.json maps ${mappingKeys.length}. The folder is inconsistent; rebuild it.`,
    );
  }
  const used = new Set<string>();
  const labels = Array.from({ length: ntotal }, (_, label) => {
    const id = mapping[String(label)];
    if (typeof id !== "string" || !docs.has(id)) {
      throw new IndexError(
        `${directory}: vector ${label} maps to ${describeValue(id)}, a document the docstore lacks. Rebuild the index.`,
      );
    }
    if (used.has(id)) {
      throw new IndexError(
        `${directory}: vectors map to document '${id}' more than once (label ${label}); labels and ids must be one-to-one. Rebuild the index.`,
      );
    }
    used.add(id);
    return id;
  });
  if (docs.size !== ntotal) {
    const orphan = [...docs.keys()].find((id) => !used.has(id));
    throw new IndexError(
      `${directory}: docstore.json holds ${docs.size} documents for ${ntotal} vectors; '${orphan}' has no vector. Rebuild the index.`,
    );
  }
  return labels;
}
