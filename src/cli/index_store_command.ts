import { randomBytes } from "node:crypto";

import { InvalidArgumentError } from "../errors.js";
import { bulkInsertPgvector } from "../recall/pgvector/pgvector_bulk_insert.js";
import { createHnswIndex } from "../recall/pgvector/pgvector_hnsw.js";
import { connectPgvectorStore } from "../recall/pgvector/pgvector_store.js";
import { embeddingsManifest } from "../recall/stage1_folder.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { type ParsedArgs, stringOption } from "./args.js";
import { embedVectors } from "./cli_stage1.js";
import { indexRunOptions } from "./index_command.js";
import { announceModels, print } from "./output.js";
import { describeSkippedInputs, readInputs } from "./input_documents.js";
import { type ModelChoice, describeModels, modelChoice, prepareModels } from "./models.js";
import {
  type StoreManifest,
  STORE_MARKER,
  countStoreRows,
  dropOwnStoreTable,
  inspectStoreTable,
  storedDocIds,
  swapStoreTable,
  writeStoreManifest,
} from "../recall/pgvector/pgvector_table.js";
import { HNSW, checkDense, openStoreServer, storeTarget } from "./store_option.js";

/**
 * `two-stage index <inputs…> --store <postgres://…|pglite:dir> [--table two_stage_docs] [--append | --rebuild] [--hnsw]`:
 * embeds the documents, loads them into a PGVectorStore table in one transaction, and records the models in the
 * table's comment. `--rebuild` drops only a table this package created.
 */
export async function indexStoreCommand(args: ParsedArgs): Promise<void> {
  const { target, table } = storeTarget(args);
  if (args.options.has("out")) {
    throw new InvalidArgumentError("Pass --out <dir> (a folder) or --store <url> (a Postgres table), not both.", {
      argument: "--out",
    });
  }
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  checkDense(args);
  const { json, append, rebuild, chunkSize, chunkOverlap } = indexRunOptions(args, "table");
  const started = performance.now();
  const server = await openStoreServer(target, "index");
  let embeddings: TransformersEmbeddings | undefined;
  try {
    const { connectionString } = server;
    const state = await inspectStoreTable(connectionString, table);
    const where = `table ${table} of ${server.label}`;
    if (state.exists && !state.manifest) {
      throw new InvalidArgumentError(
        `The ${where} exists and was not created by two-stage (no two-stage manifest in its comment); it is left ` +
          "untouched. Name another table with --table <name>.",
        { argument: "--table" },
      );
    }
    if (state.exists && !append && !rebuild) {
      throw new InvalidArgumentError(
        `The ${where} already holds an index. Pass --append to add to it or --rebuild to replace it.`,
      );
    }
    if (append && !state.exists) throw new InvalidArgumentError(`--append: the ${where} does not exist.`);
    const { documents: docs, skipped } = await readInputs(args.positionals, chunkSize, chunkOverlap, {
      followSymlinks: args.options.has("follow-symlinks"),
    });
    const ids = docs.map((d) => String(d.metadata.docId));
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    const stored = append ? await storedDocIds(connectionString, table, ids) : [];
    if (twice !== undefined || stored.length > 0) {
      throw new InvalidArgumentError(
        twice !== undefined
          ? `Document id '${twice}' appears twice in the inputs. Ids must be unique.`
          : `The ${where} already holds document ids ${stored.map((id) => `'${id}'`).join(", ")}. Ids must be ` +
              "unique; pass other documents, or --rebuild to replace the table.",
      );
    }
    let choice: ModelChoice;
    if (append) {
      const recorded = state.manifest!;
      choice = { ...modelChoice(args, recorded), stage1: "dense" };
      const flagged = stringOption(args, "embedding-model");
      embeddings = new TransformersEmbeddings({
        model: choice.embeddingModel,
        ...(flagged ? {} : recorded.embeddingProfile),
        offline: choice.offline,
      });
      if (!json) process.stderr.write(`${describeModels(choice)}\n`);
    } else {
      const prepared = await prepareModels(
        args,
        docs.map((d) => d.pageContent),
        { stage1: "dense" },
      );
      choice = prepared.choice;
      embeddings = prepared.embeddings;
      await prepared.reranker.dispose();
      if (!json) process.stderr.write(`${announceModels(choice, prepared.fallbackReason)}\n`);
    }
    const vectors = await embedVectors(embeddings, docs, false); // progress on stderr, as the folder case
    const dim = vectors[0]?.length ?? (await embeddings.embedQuery("dimension")).length;
    if (append && dim !== state.manifest!.dim) {
      throw new InvalidArgumentError(
        `The ${where} holds vectors of dimension ${state.manifest!.dim} (built with ` +
          `${state.manifest!.embeddingModel}); these embeddings give ${dim}. Append with the model it was built with.`,
        { argument: "--embedding-model" },
      );
    }
    // --rebuild loads a new table beside the old one and swaps them in one transaction at the end: a failed load
    // leaves the old table as it was.
    const loadTable = rebuild ? `${table.slice(0, 40)}_rebuild_${randomBytes(4).toString("hex")}` : table;
    const handle = await connectPgvectorStore(embeddings, { connectionString, tableName: loadTable, dimensions: dim });
    const kept = append ? state.manifest : undefined;
    const manifest: StoreManifest = {
      createdBy: STORE_MARKER,
      version: 1,
      stage1: "dense",
      embeddingModel: choice.embeddingModel,
      embeddingProfile: embeddingsManifest(embeddings).embeddingProfile,
      rerankerModel: choice.rerankerModel,
      lexical: choice.lexical,
      dim,
      documents: kept?.documents ?? 0,
      ...(kept?.hnsw ? { hnsw: kept.hnsw } : {}),
      purpose: "index",
      createdAt: kept?.createdAt ?? new Date().toISOString(),
    };
    try {
      // Mark the table as ours before loading, so a failed load can be replaced with --rebuild.
      if (!state.exists || rebuild) await writeStoreManifest(connectionString, loadTable, manifest);
      await bulkInsertPgvector(handle.store, vectors, docs);
      if (args.options.has("hnsw")) {
        await createHnswIndex(handle.store, HNSW);
        manifest.hnsw = { ...HNSW };
      }
    } catch (error) {
      await handle.end();
      if (loadTable !== table) await dropOwnStoreTable(connectionString, loadTable).catch(() => undefined);
      throw error;
    }
    await handle.end();
    if (loadTable !== table) await swapStoreTable(connectionString, loadTable, table);
    manifest.documents = await countStoreRows(connectionString, table);
    await writeStoreManifest(connectionString, table, manifest);
    const { createdBy: _marker, purpose: _purpose, ...recorded } = manifest;
    const summary = {
      store: server.label,
      table,
      added: docs.length,
      ...recorded,
      ms: Math.round(performance.now() - started),
      skipped,
    };
    print(
      json,
      summary,
      `Indexed ${docs.length} chunks into ${where} (${manifest.documents} in all; stage 1: dense, dimension ${dim}` +
        `${manifest.hnsw ? `, HNSW m ${manifest.hnsw.m} ef_construction ${manifest.hnsw.efConstruction}` : ""}) in ` +
        `${(summary.ms / 1000).toFixed(1)} s.` +
        (skipped.length ? `\n${describeSkippedInputs(skipped)}` : ""),
    );
  } finally {
    await embeddings?.dispose();
    await server.stop();
  }
}
