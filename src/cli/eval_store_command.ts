import { InvalidArgumentError } from "../errors.js";
import { FaissVectorStore } from "../recall/faiss/faiss_vector_store.js";
import { bulkInsertPgvector } from "../recall/pgvector/pgvector_bulk_insert.js";
import { createHnswIndex } from "../recall/pgvector/pgvector_hnsw.js";
import { type PgvectorStoreHandle, connectPgvectorStore } from "../recall/pgvector/pgvector_store.js";
import { embeddingsManifest } from "../recall/stage1_folder.js";
import { VectorStoreSource } from "../recall/vector_store_source.js";
import { type ParsedArgs } from "./args.js";
import { embedVectors } from "./cli_stage1.js";
import { evalCommand } from "./eval_command.js";
import {
  STORE_MARKER,
  dropOwnStoreTable,
  inspectStoreTable,
  writeStoreManifest,
} from "../recall/pgvector/pgvector_table.js";
import { HNSW, checkDense, efSearchOption, openStoreServer, storeTarget } from "./store_option.js";

/**
 * `two-stage eval --dataset <dir> --store <postgres://…|pglite:dir> [--hnsw] [--ef-search 40] [--table name]`: loads
 * the dataset into a fresh table (dropped at the end) and evaluates with it as stage 1; with `--hnsw`, stage 1
 * searches an HNSW index and an exact FAISS search over the same vectors measures its `annRecall`.
 */
export async function evalStoreCommand(args: ParsedArgs): Promise<void> {
  const { target, table } = storeTarget(args, `two_stage_eval_${process.pid}_${Date.now().toString(36)}`);
  const efSearch = efSearchOption(args);
  const hnsw = args.options.has("hnsw");
  checkDense(args);
  await evalCommand(args, {
    kind: "dense",
    build: async (_kind, docs, embeddings) => {
      const server = await openStoreServer(target, "eval");
      let handle: PgvectorStoreHandle | undefined;
      let created = false;
      let exact: FaissVectorStore | undefined;
      const close = async () => {
        exact?.dispose();
        await handle?.end();
        try {
          if (created) await dropOwnStoreTable(server.connectionString, table, "eval");
        } finally {
          await server.stop();
        }
      };
      try {
        const state = await inspectStoreTable(server.connectionString, table);
        if (state.exists) {
          throw new InvalidArgumentError(
            `eval --store loads the dataset into a new table and drops it at the end, but table ${table} of ` +
              `${server.label} exists. Name a table that does not exist with --table <name>, or leave --table out.`,
            { argument: "--table" },
          );
        }
        const vectors = await embedVectors(embeddings, docs, false);
        const dim = vectors[0]?.length ?? (await embeddings.embedQuery("dimension")).length;
        handle = await connectPgvectorStore(embeddings, {
          connectionString: server.connectionString,
          tableName: table,
          dimensions: dim,
          efSearch,
        });
        created = true;
        await writeStoreManifest(server.connectionString, table, {
          createdBy: STORE_MARKER,
          version: 1,
          stage1: "dense",
          embeddingModel: embeddings.model,
          embeddingProfile: embeddingsManifest(embeddings).embeddingProfile,
          dim,
          documents: docs.length,
          ...(hnsw ? { hnsw: { ...HNSW } } : {}),
          purpose: "eval",
          createdAt: new Date().toISOString(),
        });
        await bulkInsertPgvector(handle.store, vectors, docs);
        let exactStage1: VectorStoreSource | undefined;
        if (hnsw) {
          await createHnswIndex(handle.store, HNSW);
          exact = new FaissVectorStore(embeddings);
          await exact.addVectors(vectors, docs, { ids: docs.map((d) => String(d.metadata.docId)) });
          exactStage1 = new VectorStoreSource(exact);
        }
        return {
          source: handle.store,
          exactStage1,
          details: {
            store: server.label,
            table,
            efSearch: handle.efSearch,
            ...(hnsw ? { hnsw: { ...HNSW } } : {}),
          },
          close,
        };
      } catch (error) {
        await close();
        throw error;
      }
    },
  });
}
