// two-stage-retriever/pgvector: stage 1 on PostgreSQL + pgvector through LangChain's PGVectorStore. A subpath of its
// own because its types name `pg` and `@langchain/community`, which users of it install themselves (`npm install pg
// @langchain/community`, and `@types/pg` for TypeScript: pg ships no types; not declared as peers:
// @langchain/community's own optional peers make npm refuse installs): the main entry point must type-check without
// them (scripts/check_package.sh checks both).
export { connectPgvectorStore } from "./recall/pgvector/pgvector_store.js";
export type { PgvectorStoreParams, PgvectorStoreHandle } from "./recall/pgvector/pgvector_store.js";
export { createHnswIndex } from "./recall/pgvector/pgvector_hnsw.js";
export type { HnswIndexParams } from "./recall/pgvector/pgvector_hnsw.js";
export { bulkInsertPgvector } from "./recall/pgvector/pgvector_bulk_insert.js";
export type { BulkInsertParams } from "./recall/pgvector/pgvector_bulk_insert.js";
