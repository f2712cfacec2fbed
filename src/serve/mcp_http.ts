// `two-stage mcp <index> --http`: the retriever's MCP tools (mcp_server.ts) over MCP's streamable HTTP transport, on
// fastify, stateless (a fresh McpServer and transport per POST, as the SDK advises for servers without sessions),
// behind the same API-key check as `two-stage serve`, bound to 127.0.0.1 unless told otherwise.
import type { FastifyInstance } from "fastify";

import { importOptional } from "../optional_import.js";
import { API_KEY_ENV } from "../rerank/remote/remote_reranker_params.js";
import { bearerCheck } from "./api_key.js";
import { closeGracefully, listeningAddress } from "./listening_app.js";
import { createRetrieverMcpServer } from "./mcp_server.js";
import type { RetrieverMcpParams } from "./mcp_server_params.js";
import { checkRerankServerParams } from "./rerank_server_params.js";

const FEATURE = "two-stage mcp --http (two-stage-retriever/serve)";

/** Options of {@link startMcpHttpServer}: the tools' options and where to listen. */
export interface McpHttpParams extends RetrieverMcpParams {
  /**
   * The interface to listen on; another machine can reach the server only on a public one (then set an API key).
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * The port; 0 picks a free one (see `McpHttpServer.url`).
   * @default 8081
   */
  port?: number;
  /**
   * Requests must carry `Authorization: Bearer <apiKey>`; others get 401 before any tool runs. Compared in constant
   * time, never logged.
   * @default process.env.TWO_STAGE_API_KEY, else none (no authentication)
   */
  apiKey?: string;
  /**
   * Largest request body in bytes; a larger one is answered 413.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
}

/** A running MCP HTTP server. */
export interface McpHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8081/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and waits for the requests in flight; the retriever stays the caller's. */
  close(): Promise<void>;
}

/** The port `two-stage mcp --http` listens on by default (`two-stage serve` takes 8080). */
export const DEFAULT_MCP_PORT = 8081;

/**
 * Serves the retriever's MCP tools over streamable HTTP at `POST /mcp` (GET and DELETE answer 405: no sessions).
 * Needs `fastify`, `@modelcontextprotocol/sdk` and `zod`.
 *
 * @example
 * ```ts
 * const server = await startMcpHttpServer({ retriever, port: 0, apiKey: process.env.TWO_STAGE_API_KEY });
 * // an MCP client: new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${key}` } } })
 * await server.close();
 * ```
 */
export async function startMcpHttpServer(params: McpHttpParams): Promise<McpHttpServer> {
  const host = params.host ?? "127.0.0.1";
  const port = params.port ?? DEFAULT_MCP_PORT;
  const apiKey = params.apiKey ?? (process.env[API_KEY_ENV] || undefined);
  checkRerankServerParams({ host, port, apiKey, maxBodyBytes: params.maxBodyBytes });
  await createRetrieverMcpServer(params); // checks the tools' options (and that the SDK is installed) before listening
  const [{ default: fastify }, { StreamableHTTPServerTransport }] = await Promise.all([
    importOptional<typeof import("fastify")>("fastify", FEATURE),
    importOptional<typeof import("@modelcontextprotocol/sdk/server/streamableHttp.js")>(
      "@modelcontextprotocol/sdk/server/streamableHttp.js",
      FEATURE,
      "@modelcontextprotocol/sdk",
    ),
  ]);
  const app: FastifyInstance = fastify({ bodyLimit: params.maxBodyBytes ?? 1024 * 1024, logger: false });
  const allowed = apiKey === undefined ? undefined : bearerCheck(apiKey);
  app.addHook("onRequest", async (request, reply) => {
    if (allowed && !allowed(request.headers.authorization)) {
      return reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send({
          jsonrpc: "2.0",
          error: { code: -32001, message: "Missing or wrong API key: send Authorization: Bearer <the server's key>." },
          id: null,
        });
    }
    return undefined;
  });
  const notAllowed = async (_request: unknown, reply: import("fastify").FastifyReply) =>
    reply
      .code(405)
      .header("allow", "POST")
      .send({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed: this server has no sessions." },
        id: null,
      });
  app.get("/mcp", notAllowed);
  app.delete("/mcp", notAllowed);
  app.post("/mcp", async (request, reply) => {
    const server = await createRetrieverMcpServer(params);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack(); // the transport writes the answer itself
    await transport.handleRequest(request.raw, reply.raw, request.body);
  });
  await app.listen({ host, port });
  const { url, port: boundPort } = listeningAddress(app, host, port);
  let closing: Promise<void> | undefined;
  return {
    url: `${url}/mcp`,
    port: boundPort,
    close() {
      closing ??= closeGracefully(app);
      return closing;
    },
  };
}
