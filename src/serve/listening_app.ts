// What both servers (`two-stage serve`, `two-stage mcp --http`) do with their fastify app once it listens: the URL it
// answers on, and a graceful close.
import type { FastifyInstance } from "fastify";

/** The bound port and the base URL (`http://127.0.0.1:8080`, IPv6 hosts bracketed) of an app that listens. */
export function listeningAddress(app: FastifyInstance, host: string, port: number): { url: string; port: number } {
  const address = app.server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { url: `http://${shownHost}:${boundPort}`, port: boundPort };
}

/**
 * Stops listening, answers 503 to new requests and waits for those in flight (`app.close()`); a keep-alive connection
 * whose request finishes after the close began would then hold it until its idle timeout, so idle connections are
 * closed as they appear.
 */
export async function closeGracefully(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
