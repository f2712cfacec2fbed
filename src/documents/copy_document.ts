import { Document, type DocumentInterface } from "@langchain/core/documents";

/**
 * A deep copy of metadata: plain objects and arrays are copied all the way down (a Date becomes a new Date), so no
 * nested value is shared between two documents or between a document and the caller's object. Anything else (class
 * instances, functions) is kept by reference, as JSON-unsafe values cannot be copied faithfully; a value met again
 * (a cycle, or one object under two keys) is copied once and shared within the copy, as in the original.
 */
export function copyMetadata<M extends Record<string, unknown>>(metadata: M | undefined): M {
  // The usual metadata, a plain object of primitives, is copied in one pass: no bookkeeping for nesting or cycles
  // (that costs 0.8 µs a document, which made Bm25Index.recall of 100 documents 1.5× slower than its ranking).
  if (metadata !== undefined && metadata !== null && Object.getPrototypeOf(metadata) === Object.prototype) {
    const keys = Object.keys(metadata);
    if (keys.every((key) => typeof metadata[key] !== "object" || metadata[key] === null)) {
      const out: Record<string, unknown> = {};
      for (const key of keys) out[key] = metadata[key];
      return out as M;
    }
  }
  const copies = new Map<object, unknown>();
  const copy = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const seen = copies.get(value);
    if (seen !== undefined) return seen;
    if (value instanceof Date) return new Date(value.getTime());
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      copies.set(value, out);
      for (const item of value) out.push(copy(item));
      return out;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    copies.set(value, out);
    for (const [key, item] of Object.entries(value)) out[key] = copy(item);
    return out;
  };
  return copy(metadata ?? {}) as M;
}

/**
 * The one way this package copies a document: a new Document with the same text and id, and a deep copy of
 * `metadata` (the document's own by default; pass the metadata the copy should carry, e.g. with scores added).
 * The caller's document is never changed, and the copy shares no nested metadata value with it.
 */
export function copyDocument<M extends Record<string, unknown> = Record<string, unknown>>(
  doc: DocumentInterface,
  metadata: M = doc.metadata as M,
): Document<M> {
  return new Document<M>({ pageContent: doc.pageContent, id: doc.id, metadata: copyMetadata(metadata) });
}
