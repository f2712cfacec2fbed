import path from "node:path";
import { fileURLToPath } from "node:url";

import { FaissVectorStore } from "../recall/faiss_vector_store.js";
import { TwoStageRetriever } from "../two_stage_retriever.js";
import { embedInto, renderExplanation } from "./commands.js";
import { readInputDocuments } from "./input_documents.js";
import { DEFAULT_EMBEDDING_MODEL, DEFAULT_RERANKER_MODEL } from "../defaults.js";
import { type ModelChoice, describeModels, instantiate, lexicalModelsFor } from "./models.js";

/** The demo corpus shipped in examples/data (resolved from src/cli or dist/cli alike). */
export const DEMO_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "data");

export const DEMO_QUESTIONS = ["What causes the tides?", "Why is the sky blue?", "Why do we have seasons?"];

/** Fails within `timeoutMs` when the Hugging Face hub cannot be reached (a blocked network can hang a fetch for minutes). */
async function checkHub(timeoutMs = 5000): Promise<void> {
  const { env } = await import("@xenova/transformers");
  if (env.allowRemoteModels === false) throw new Error("env.allowRemoteModels is false");
  try {
    await fetch(new URL(`${DEFAULT_EMBEDDING_MODEL}/resolve/main/config.json`, env.remoteHost), {
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `${env.remoteHost} not reachable: ${cause ?? (error instanceof Error ? error.message : String(error))}`,
    );
  }
}

/**
 * `npm run demo` / `two-stage demo`: indexes the demo corpus, asks a few questions and shows how stage 2 moved the
 * results. Uses the default hub models; when they cannot be loaded (no network), says so in one line and falls back
 * to the project's lexical test models, clearly labelled.
 */
export async function demoCommand(offline: boolean): Promise<void> {
  const started = performance.now();
  const docs = await readInputDocuments([DEMO_DATA], 1000, 100);
  let choice: ModelChoice = {
    embeddingModel: DEFAULT_EMBEDDING_MODEL,
    rerankerModel: DEFAULT_RERANKER_MODEL,
    offline,
    lexical: false,
  };
  let models = instantiate(choice);
  try {
    if (!offline) await checkHub();
    await models.embeddings.embedQuery("probe");
    await models.reranker.compressDocuments([{ pageContent: "probe", metadata: {} }], "probe");
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 160);
    await Promise.all([models.embeddings.dispose(), models.reranker.dispose()]);
    choice = { ...choice, ...lexicalModelsFor(docs.map((d) => d.pageContent)), lexical: true };
    models = instantiate(choice);
    process.stdout.write(
      `Hub models unavailable (${reason}); falling back to the project's LEXICAL TEST MODELS (word-overlap stand-ins, not real model quality).\n`,
    );
  }
  process.stdout.write(`${describeModels(choice)}\n`);
  const store = new FaissVectorStore(models.embeddings);
  await embedInto(store, models.embeddings, docs, true);
  process.stdout.write(
    `Indexed ${store.size} documents from ${path.relative(process.cwd(), DEMO_DATA) || DEMO_DATA}.\n\n`,
  );
  const retriever = new TwoStageRetriever({ vectorStore: store, compressor: models.reranker, recallK: 10, topK: 3 });
  for (const question of DEMO_QUESTIONS) {
    process.stdout.write(`${renderExplanation(await retriever.explain(question), retriever.source.scoreKind)}\n\n`);
  }
  await Promise.all([models.embeddings.dispose(), models.reranker.dispose()]);
  process.stdout.write(`Demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
}
