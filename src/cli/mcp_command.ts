import { InvalidArgumentError } from "../errors.js";
import { API_KEY_ENV } from "../rerank/remote/remote_reranker_params.js";
import { type ParsedArgs, nonNegativeIntOption, optionalIntOption, stringOption } from "./args.js";
import { describeModels } from "./models.js";
import { openIndex } from "./open_index.js";

/**
 * `two-stage mcp <index> [--http [--host 127.0.0.1] [--port 8081] [--api-key <key>]]`: the index as MCP tools
 * (`search`, `explain`, `get`) for agents, over stdio (the default: an MCP client starts this command) or streamable
 * HTTP, until stdin closes (stdio) or SIGINT/SIGTERM.
 */
export async function mcpCommand(args: ParsedArgs): Promise<number> {
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length > 0) {
    throw new InvalidArgumentError(
      `mcp needs one index folder: two-stage mcp <index> [--http]; got ${args.positionals.length} arguments.`,
    );
  }
  const http = args.options.has("http");
  if (!http) {
    for (const option of ["host", "port", "api-key"]) {
      if (args.options.has(option)) {
        throw new InvalidArgumentError(`--${option} is for --http; the stdio server is reached through its client.`);
      }
    }
    // stdout carries MCP messages: anything a library prints goes to stderr instead.
    console.log = console.error;
    console.info = console.error;
    console.warn = console.error;
  }
  // Lazily: the server needs @modelcontextprotocol/sdk, zod (and fastify for --http), optional peer dependencies.
  const { createRetrieverMcpServer } = await import("../serve/mcp_server.js");
  const { retriever, choice } = await openIndex(dir, args);
  const tools = {
    retriever,
    maxTopK: optionalIntOption(args, "max-top-k"),
    maxTextChars: optionalIntOption(args, "max-text-chars"),
  };
  process.stderr.write(`two-stage mcp: ${dir}; ${describeModels(choice)}\n`);
  if (!http) {
    const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
    const server = await createRetrieverMcpServer(tools);
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
    });
    await server.connect(new StdioServerTransport());
    process.stderr.write("two-stage mcp: serving search, explain, get on stdio\n");
    process.stdin.once("end", () => void server.close());
    await closed;
    await retriever.dispose();
    return 0;
  }
  const { startMcpHttpServer, DEFAULT_MCP_PORT } = await import("../serve/mcp_http.js");
  const server = await startMcpHttpServer({
    ...tools,
    host: stringOption(args, "host"),
    port: nonNegativeIntOption(args, "port", DEFAULT_MCP_PORT),
    apiKey: stringOption(args, "api-key"),
  });
  const keyed = args.options.has("api-key") || Boolean(process.env[API_KEY_ENV]);
  process.stderr.write(
    `two-stage mcp: listening on ${server.url} (streamable HTTP): search, explain, get; API key ` +
      `${keyed ? "required (Authorization: Bearer …)" : "not required: anyone who can reach the port can use it"}\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  process.stderr.write(`two-stage mcp: ${signal}: finishing the requests in flight\n`);
  await server.close();
  await retriever.dispose();
  return 0;
}
