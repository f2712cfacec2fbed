import { InvalidArgumentError } from "../errors.js";
import { type PgvectorStoreHandle, connectPgvectorStore } from "../recall/pgvector/pgvector_store.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import type { CrossEncoderCompressor } from "../rerank/cross_encoder_compressor.js";
import type { RemoteReranker } from "../rerank/remote/remote_reranker.js";
import { TwoStageRetriever } from "../two_stage_retriever.js";
import { type ParsedArgs, optionalIntOption, stringOption } from "./args.js";
import { explanationJson, print, renderExplanation } from "./output.js";
import { type ModelChoice, chosenReranker, describeModels, modelChoice } from "./models.js";
import { inspectStoreTable } from "../recall/pgvector/pgvector_table.js";
import { checkDense, efSearchOption, openStoreServer, storeTarget } from "./store_option.js";

/**
 * `two-stage query --store <postgres://…|pglite:dir> [--table two_stage_docs] [--ef-search 40] "question"`: the
 * retriever over the table's PGVectorStore, with the models its manifest records (flags override).
 */
export async function queryStoreCommand(args: ParsedArgs): Promise<void> {
  const { target, table } = storeTarget(args);
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
  let models: { embeddings: TransformersEmbeddings; reranker: CrossEncoderCompressor | RemoteReranker } | undefined;
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
      reranker: chosenReranker(choice),
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
