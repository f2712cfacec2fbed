import { API_KEY_ENV } from "../rerank/remote/remote_reranker_params.js";
import { type ParsedArgs, nonNegativeIntOption, optionalIntOption, stringOption } from "./args.js";
import { modelLocation } from "./models.js";

/** The default port of `two-stage serve` (TEI's docs map its container to 8080 too). */
export const DEFAULT_SERVE_PORT = 8080;

/**
 * `two-stage serve [--reranker-model <id|dir>] [--embedding-model <id|dir>] [--max-length <tokens>] [--host 127.0.0.1] [--port 8080] …`:
 * the reranker (and embedder) behind TEI- and Cohere-compatible routes until SIGINT/SIGTERM, then a graceful
 * shutdown (in-flight requests finish, new ones get 503).
 */
export async function serveCommand(args: ParsedArgs): Promise<number> {
  // Lazily: the server needs fastify, an optional peer dependency; its absence is an error saying how to install it.
  const { startRerankServer } = await import("../serve/rerank_server.js");
  const rerankerModel = stringOption(args, "reranker-model");
  const embeddingModel = stringOption(args, "embedding-model");
  const offline = args.options.has("offline");
  const server = await startRerankServer({
    reranker: {
      ...(rerankerModel !== undefined ? { model: rerankerModel } : {}),
      ...(args.options.has("max-length") ? { maxLength: optionalIntOption(args, "max-length") } : {}),
      offline,
    },
    embeddings: embeddingModel !== undefined ? { model: embeddingModel, offline } : undefined,
    host: stringOption(args, "host"),
    port: nonNegativeIntOption(args, "port", DEFAULT_SERVE_PORT),
    apiKey: stringOption(args, "api-key"),
    maxQueue: args.options.has("max-queue") ? nonNegativeIntOption(args, "max-queue", 0) : undefined,
    maxConcurrent: optionalIntOption(args, "max-concurrent"),
    maxTexts: optionalIntOption(args, "max-texts"),
    maxBodyBytes: optionalIntOption(args, "max-body-bytes"),
    requestTimeoutMs: optionalIntOption(args, "request-timeout-ms"),
  });
  const keyed = args.options.has("api-key") || Boolean(process.env[API_KEY_ENV]);
  process.stderr.write(
    `two-stage serve: listening on ${server.url}\n` +
      `  reranker ${server.reranker.model} (${modelLocation(server.reranker.model)}): POST /rerank, /v1/rerank, /v2/rerank\n` +
      `  ${embeddingModel !== undefined ? `embeddings ${embeddingModel}: POST /embed` : "no embedding model (/embed answers 424; --embedding-model to serve one)"}\n` +
      `  GET /info, /health, /metrics; API key ${keyed ? "required (Authorization: Bearer …)" : "not required: anyone who can reach the port can use it"}\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  process.stderr.write(`two-stage serve: ${signal}: finishing the requests in flight, refusing new ones\n`);
  await server.close();
  process.stderr.write("two-stage serve: stopped\n");
  return 0;
}
