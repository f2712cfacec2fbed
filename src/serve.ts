// two-stage-retriever/serve: `two-stage serve` and `two-stage mcp` as a library — our reranker (and embedder) behind
// TEI- and Cohere-compatible HTTP routes, and a retriever as Model Context Protocol tools. A subpath of its own
// because it needs optional peer dependencies that only their users install (fastify; @modelcontextprotocol/sdk and
// zod): the main entry point never loads them.
export { startRerankServer } from "./serve/rerank_server.js";
export type { RerankServer } from "./serve/rerank_server.js";
export type { RerankServerParams } from "./serve/rerank_server_params.js";
export { createRetrieverMcpServer, mcpDocumentId } from "./serve/mcp_server.js";
export type { McpDocument } from "./serve/mcp_server.js";
export type { RetrieverMcpParams } from "./serve/mcp_server_params.js";
export { DEFAULT_MCP_PORT, startMcpHttpServer } from "./serve/mcp_http.js";
export type { McpHttpParams, McpHttpServer } from "./serve/mcp_http.js";
