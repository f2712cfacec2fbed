import type { DocumentInterface } from "@langchain/core/documents";

import type { RecallFilter } from "./recall_source.js";

/** Whether a document passes a filter (no filter: every document). */
export function matchesFilter(filter: RecallFilter | undefined, doc: DocumentInterface): boolean {
  if (filter === undefined) return true;
  if (typeof filter === "function") return filter(doc);
  return Object.entries(filter).every(([key, value]) => doc.metadata?.[key] === value);
}

/**
 * The one widening rule for sources that filter after searching (FAISS indexes, LangChain's FaissStore): search
 * `k × overFetch` candidates, keep those that pass the filter, and double the window until `k` pass or a search
 * returns fewer than it was asked for (everything was seen). Without a filter, one search of `k`.
 *
 * @param search returns the best `window` hits, best first (fewer only when the index holds fewer).
 * @param documentOf the document of a hit, for the filter.
 */
export async function filteredSearch<T>(
  k: number,
  overFetch: number,
  filter: RecallFilter | undefined,
  search: (window: number) => Promise<T[]>,
  documentOf: (hit: T) => DocumentInterface,
): Promise<T[]> {
  if (filter === undefined) return (await search(k)).slice(0, k);
  let window = k * overFetch;
  for (;;) {
    const hits = await search(window);
    const passing = hits.filter((hit) => matchesFilter(filter, documentOf(hit)));
    if (passing.length >= k || hits.length < window) return passing.slice(0, k);
    window *= 2;
  }
}
