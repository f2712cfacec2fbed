// two-stage-retriever/serve: `two-stage serve` as a library — our reranker (and embedder) behind TEI- and
// Cohere-compatible HTTP routes. A subpath of its own because it needs fastify, an optional peer dependency that
// only users of the server install (`npm install fastify`): the main entry point never loads it.
export { startRerankServer } from "./serve/rerank_server.js";
export type { RerankServer } from "./serve/rerank_server.js";
export type { RerankServerParams } from "./serve/rerank_server_params.js";
