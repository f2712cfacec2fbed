import type { DocumentInterface } from "@langchain/core/documents";

import { documentKey } from "./document_key.js";

/** The prefix of an id that names a document without one by the start of its text (`text:<first characters>`). */
export const TEXT_ID_PREFIX = "text:";

/**
 * The documents of `stored` that `ids` name, in the order of `ids` (undefined for an id none has). An id is matched by
 * the identity rule ({@link documentKey}): `doc.id`, `metadata.id` or `metadata.docId`; an id `text:<start>` names the
 * first document without an id whose text starts with `<start>`. One pass over `stored`, whatever the number of ids.
 */
export function documentsById<T extends DocumentInterface>(
  stored: Iterable<T>,
  ids: readonly string[],
): (T | undefined)[] {
  const wanted = new Map<string, number[]>();
  ids.forEach((id, i) => {
    const key = id.startsWith(TEXT_ID_PREFIX) ? id : `id:${id}`;
    wanted.set(key, [...(wanted.get(key) ?? []), i]);
  });
  const textIds = ids.filter((id) => id.startsWith(TEXT_ID_PREFIX));
  const found: (T | undefined)[] = ids.map(() => undefined);
  let left = ids.length;
  for (const doc of stored) {
    if (left === 0) break;
    const key = documentKey(doc);
    const hits = [...(wanted.get(key) ?? [])];
    if (key.startsWith(TEXT_ID_PREFIX)) {
      for (const id of textIds)
        if (doc.pageContent.startsWith(id.slice(TEXT_ID_PREFIX.length))) hits.push(...wanted.get(id)!);
    }
    for (const i of hits) {
      if (found[i] === undefined) {
        found[i] = doc;
        left--;
      }
    }
  }
  return found;
}
