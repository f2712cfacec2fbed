/* global process */
// A real PostgreSQL engine (PGlite: Postgres compiled to WebAssembly, with pgvector) served over the Postgres wire
// protocol on 127.0.0.1 with an ephemeral port, in its own process so the engine neither runs in jest's VM realm nor
// blocks the test's event loop. Prints "listening <port>" once ready; stops on SIGTERM or when stdin closes.
// Usage: node pglite_server.mjs [dataDir] (no dataDir: in memory).
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const dataDir = process.argv[2];
const db = await PGlite.create(dataDir, { extensions: { vector } });
// PGlite is one Postgres backend; the server multiplexes client connections onto it, one query at a time.
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
await server.start();
const port = Number(server.getServerConn().split(":").pop());
process.stdout.write(`listening ${port}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
