/**
 * Defaults shared by the API, `explain`, `evaluate` and the CLI, written once. Each `XxxParams` field documents the
 * value it takes from here.
 */

/**
 * Stage-1 candidates per query. 20, decided on real weights (docs/quality.md): reranked by ms-marco-MiniLM-L-12-v2,
 * the mean nDCG@10 over SciFact (BM25 and bge-small stage 1), CISI and ADI was 0.5577 at recallK 10, 0.5583 at 20,
 * 0.5474 at 50 and 0.5425 at 100 — past 20, the MS MARCO rerankers promote more distractors than the relevant
 * documents they gain — and stage 2 reads 2.5 times fewer pairs than at 50. Raise it for a stronger reranker or when
 * `two-stage eval` shows relevant documents beyond it.
 */
export const DEFAULT_RECALL_K = 20;

/**
 * Weight of the dense source in a hybrid's Reciprocal Rank Fusion; BM25's is 1. 1, decided on real weights
 * (docs/quality.md, `--stage1 hybrid --stage1-only`, bge-small-en-v1.5 int8): against 0.5, Recall@20 rose on all four
 * collections (SciFact 0.8521 → 0.8879, CISI 0.1839 → 0.2168, Cranfield 0.4857 → 0.5579, ADI 0.6708 → 0.7367),
 * Recall@100 on the three that were not already 1.0, and nDCG@10 on three of four (ADI −0.006). Below 1, a dense-only
 * document scores under every BM25 top-60 document, so at recallK up to 60 the candidates are BM25's alone. Lower it
 * (e.g. 0.5) for a dense model weaker than BM25 on your data, such as the lexical test embeddings.
 */
export const DEFAULT_DENSE_WEIGHT = 1;

/** Documents the retriever returns. */
export const DEFAULT_TOP_K = 4;

/**
 * Stage-1 embedding model. bge-small-en-v1.5 (CLS pooling, the retrieval instruction on queries, 384 dimensions) gave
 * the best stage-1 nDCG@10 of the three real models measured on all four collections (`two-stage eval
 * --stage1-only`, int8; docs/quality.md): SciFact 0.7031 (all-MiniLM-L6-v2 0.6474, e5-small-v2 0.6820), CISI 0.4274
 * (0.4265, 0.3814), Cranfield 0.3980 (0.3768, 0.3829), ADI 0.5010 (0.4967, 0.4829), and Recall@100 at least
 * MiniLM's on each. It reads up to 512 tokens (MiniLM 256), so indexing long documents takes about twice as long.
 */
export const DEFAULT_EMBEDDING_MODEL = "Xenova/bge-small-en-v1.5";

/**
 * The embedding model of an index folder whose manifest names none (saved before the manifest recorded it): the
 * default of those versions. Not {@link DEFAULT_EMBEDDING_MODEL}: both give 384 dimensions, so the dimension check
 * could not catch the wrong one.
 */
export const UNRECORDED_EMBEDDING_MODEL = "Xenova/all-MiniLM-L6-v2";

/** Stage-2 cross-encoder. */
export const DEFAULT_RERANKER_MODEL = "Xenova/ms-marco-MiniLM-L-6-v2";
