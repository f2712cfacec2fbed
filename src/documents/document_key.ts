import { createHash } from "node:crypto";

import type { DocumentInterface } from "@langchain/core/documents";

/**
 * The one identity rule of this package: `doc.id`, else `metadata.id`, else `metadata.docId` (a non-empty string or
 * a number), else the page content. Hybrid fusion matches documents across sources by it, stage 2 drops later copies
 * of a key as duplicates (`dedupe`) and matches a compressor's output back to its candidate by it. Give documents
 * ids when two different documents may share a text.
 */
export function documentKey(doc: DocumentInterface): string {
  if (typeof doc.id === "string" && doc.id !== "") return `id:${doc.id}`;
  const meta: Record<string, unknown> = doc.metadata ?? {};
  for (const field of ["id", "docId"]) {
    const value = meta[field];
    if ((typeof value === "string" && value !== "") || typeof value === "number") return `id:${String(value)}`;
  }
  return `text:${doc.pageContent}`;
}

/**
 * The keys by which stage 2's `dedupe` recognises a repeat: the document's {@link documentKey} and its text. A later
 * candidate that is the same document (same key) or the same content (same text) as an earlier one is returned once.
 */
export function duplicateKeys(doc: DocumentInterface): string[] {
  const key = documentKey(doc);
  const text = `text:${doc.pageContent}`;
  return key === text ? [key] : [key, text];
}

/** Longest id a trace shows; a longer one is cut and marked with `…`. */
const TRACE_ID_LENGTH = 80;

/**
 * A short, readable name of a document for traces (callback run outputs, LangSmith): its id under
 * {@link documentKey} (`doc.id`, else `metadata.id`, else `metadata.docId`; cut to 80 characters), else
 * `sha256:` and the first 12 hex digits of the SHA-256 of its text — the same text gives the same name in every
 * run, and the text itself never goes into the trace.
 */
export function traceId(doc: DocumentInterface): string {
  const key = documentKey(doc);
  if (key.startsWith("id:")) {
    const id = key.slice(3);
    return id.length > TRACE_ID_LENGTH ? `${id.slice(0, TRACE_ID_LENGTH - 1)}…` : id;
  }
  return `sha256:${createHash("sha256").update(doc.pageContent).digest("hex").slice(0, 12)}`;
}
