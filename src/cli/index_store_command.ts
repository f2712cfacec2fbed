import { randomBytes } from "node:crypto";

import { InvalidArgumentError } from "../errors.js";
import { FaissVectorStore } from "../recall/faiss/faiss_vector_store.js";
import { bulkInsertPgvector } from "../recall/pgvector/pgvector_bulk_insert.js";
import { createHnswIndex } from "../recall/pgvector/pgvector_hnsw.js";
import { type PgvectorStoreHandle, connectPgvectorStore } from "../recall/pgvector/pgvector_store.js";
import { embeddingsManifest } from "../recall/stage1_folder.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { VectorStoreSource } from "../recall/vector_store_source.js";
import { CrossEncoderCompressor } from "../rerank/cross_encoder_compressor.js";
import { TwoStageRetriever } from "../two_stage_retriever.js";
import { type ParsedArgs, optionalIntOption, stringOption } from "./args.js";
import { embedVectors } from "./cli_stage1.js";
import { evalCommand } from "./eval_command.js";
import { chunkOptions } from "./index_command.js";
import { announceModels, explanationJson, print, renderExplanation } from "./output.js";
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
import { efSearchOption, openStoreServer, parseStoreOption, storeTableOption } from "./store_option.js";

/** The HNSW settings `--hnsw` builds with (the issue's acceptance settings; pgvector's defaults). */
const HNSW = { m: 16, efConstruction: 64 } as const;

/** Refuses `--stage1 bm25|hybrid` with `--store`: Postgres holds a dense stage 1 here. */
function checkDense(args: ParsedArgs): void {
  const kind = stringOption(args, "stage1");
  if (kind !== undefined && kind !== "dense") {
    throw new InvalidArgumentError(
      `--stage1 ${kind} cannot run on --store: the Postgres table holds a dense (pgvector) stage 1. Drop --stage1, ` +
        `or index ${kind} into a folder with --out <dir>.`,
      { argument: "--stage1" },
    );
  }
}

/** The store argument (main.ts routes here only when `--store` is given). */
function storeArgument(args: ParsedArgs): string {
  return stringOption(args, "store") ?? "";
}

/**
 * `two-stage index <inputs…> --store <postgres://…|pglite:dir> [--table two_stage_docs] [--append | --rebuild] [--hnsw]`:
 * embeds the documents, loads them into a PGVectorStore table in one transaction, and records the models in the
 * table's comment. `--rebuild` drops only a table this package created.
 */
export async function indexStoreCommand(args: ParsedArgs): Promise<void> {
  const target = parseStoreOption(storeArgument(args));
  const table = storeTableOption(args);
  if (args.options.has("out")) {
    throw new InvalidArgumentError("Pass --out <dir> (a folder) or --store <url> (a Postgres table), not both.", {
      argument: "--out",
    });
  }
  if (args.positionals.length === 0)
    throw new InvalidArgumentError("index needs input files or folders (.txt, .md, .jsonl).");
  checkDense(args);
  const json = args.options.has("json");
  const append = args.options.has("append");
  const rebuild = args.options.has("rebuild");
  if (append && rebuild) {
    throw new InvalidArgumentError("Pass --append (add to the table) or --rebuild (replace it), not both.");
  }
  const { chunkSize, chunkOverlap } = chunkOptions(args);
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

/**
 * `two-stage query --store <postgres://…|pglite:dir> [--table two_stage_docs] [--ef-search 40] "question"`: the
 * retriever over the table's PGVectorStore, with the models its manifest records (flags override).
 */
export async function queryStoreCommand(args: ParsedArgs): Promise<void> {
  const target = parseStoreOption(storeArgument(args));
  const table = storeTableOption(args);
  const efSearch = efSearchOption(args);
  const question = args.positionals.join(" ").trim();
  if (!question) {
    throw new InvalidArgumentError(
      'query --store needs a question: two-stage query --store <url> [--table <name>] "question"',
    );
  }
  checkDense(args);
  const json = args.options.has("json");
  const started = performance.now();
  const server = await openStoreServer(target, "query");
  let handle: PgvectorStoreHandle | undefined;
  let models: { embeddings: TransformersEmbeddings; reranker: CrossEncoderCompressor } | undefined;
  try {
    const state = await inspectStoreTable(server.connectionString, table);
    const where = `table ${table} of ${server.label}`;
    if (!state.exists) {
      throw new InvalidArgumentError(
        `The ${where} does not exist. Create it: two-stage index <files> --store <url> --table ${table}`,
        { argument: "--table" },
      );
    }
    const manifest = state.manifest;
    if (!manifest) {
      throw new InvalidArgumentError(
        `The ${where} was not created by two-stage index (no two-stage manifest in its comment), so its embedding ` +
          "model is unknown. Index into a table of its own with: two-stage index <files> --store <url> --table <name>",
        { argument: "--table" },
      );
    }
    const choice: ModelChoice = { ...modelChoice(args, manifest), stage1: "dense" };
    const flagged = stringOption(args, "embedding-model");
    models = {
      embeddings: new TransformersEmbeddings({
        model: choice.embeddingModel,
        ...(flagged ? {} : manifest.embeddingProfile),
        offline: choice.offline,
      }),
      reranker: new CrossEncoderCompressor({ model: choice.rerankerModel, offline: choice.offline }),
    };
    const probe = await models.embeddings.embedQuery("dimension check");
    if (probe.length !== manifest.dim) {
      throw new InvalidArgumentError(
        `The ${where} holds vectors of dimension ${manifest.dim} (built with ${manifest.embeddingModel}); ` +
          `${choice.embeddingModel} gives ${probe.length}. Query with the model it was built with.`,
        { argument: "--embedding-model" },
      );
    }
    handle = await connectPgvectorStore(models.embeddings, {
      connectionString: server.connectionString,
      tableName: table,
      dimensions: manifest.dim,
      efSearch,
    });
    const retriever = new TwoStageRetriever({
      stage1: handle.store,
      compressor: models.reranker,
      recallK: optionalIntOption(args, "recall-k"),
      topK: optionalIntOption(args, "top-k"),
    });
    // Load the reranker now, so the stage timings of the query measure the stages, not the loading.
    await models.reranker.score("warm-up", ["warm-up"]);
    const loadMs = performance.now() - started;
    process.stderr.write(
      `${describeModels(choice)}\nstage 1 store: ${where} (${manifest.documents} documents` +
        `${manifest.hnsw ? `, HNSW index, ef_search ${handle.efSearch}` : ", exact search"})\n`,
    );
    const explanation = await retriever.explain(question);
    print(
      json,
      { ...(explanationJson(explanation) as object), loadMs, table, efSearch: handle.efSearch },
      `${renderExplanation(explanation, retriever.source.scoreKind)}\nmodels and store opened in ${loadMs.toFixed(0)} ms (not counted in the stage timings)`,
    );
  } finally {
    await handle?.end();
    await Promise.all([models?.embeddings.dispose(), models?.reranker.dispose()]);
    await server.stop();
  }
}

/**
 * `two-stage eval --dataset <dir> --store <postgres://…|pglite:dir> [--hnsw] [--ef-search 40] [--table name]`: loads
 * the dataset into a fresh table (dropped at the end) and evaluates with it as stage 1; with `--hnsw`, stage 1
 * searches an HNSW index and an exact FAISS search over the same vectors measures its `annRecall`.
 */
export async function evalStoreCommand(args: ParsedArgs): Promise<void> {
  const target = parseStoreOption(storeArgument(args));
  const table = storeTableOption(args, `two_stage_eval_${process.pid}_${Date.now().toString(36)}`);
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
