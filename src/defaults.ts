/**
 * Defaults shared by the API, `explain`, `evaluate` and the CLI, written once. Each `XxxParams` field documents the
 * value it takes from here.
 */

/** Stage-1 candidates per query. */
export const DEFAULT_RECALL_K = 50;

/** Documents the retriever returns. */
export const DEFAULT_TOP_K = 4;

/** Stage-1 embedding model. */
export const DEFAULT_EMBEDDING_MODEL = "Xenova/all-MiniLM-L6-v2";

/** Stage-2 cross-encoder. */
export const DEFAULT_RERANKER_MODEL = "Xenova/ms-marco-MiniLM-L-6-v2";
