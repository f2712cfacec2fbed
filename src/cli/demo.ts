import path from "node:path";
import { fileURLToPath } from "node:url";

import { TwoStageRetriever } from "../two_stage_retriever.js";
import { parseArgs } from "./args.js";
import { buildCliStage1 } from "./cli_stage1.js";
import { announceModels, renderExplanation } from "./output.js";
import { readInputDocuments } from "./input_documents.js";
import { prepareModels } from "./models.js";

/** The demo corpus shipped in examples/data (resolved from src/cli or dist/cli alike). */
export const DEMO_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "data");

export const DEMO_QUESTIONS = ["What causes the tides?", "Why is the sky blue?", "Why do we have seasons?"];

/**
 * `npm run demo` / `two-stage demo`: indexes the demo corpus, asks a few questions and shows how stage 2 moved the
 * results. Uses the default hub models; when they cannot be loaded (no network), says so in one line and falls back
 * to BM25 for stage 1 and the project's lexical test model for stage 2, clearly labelled.
 */
export async function demoCommand(offline: boolean): Promise<void> {
  const started = performance.now();
  const docs = await readInputDocuments([DEMO_DATA], 1000, 100);
  const args = parseArgs(offline ? ["--offline"] : [], [], ["offline"]);
  const { choice, embeddings, reranker, fallbackReason } = await prepareModels(
    args,
    docs.map((d) => d.pageContent),
    {},
    { fallbackToLexical: true },
  );
  process.stdout.write(`${announceModels(choice, fallbackReason)}\n`);
  const { source } = await buildCliStage1(choice.stage1, docs, embeddings, true);
  process.stdout.write(
    `Indexed ${docs.length} documents from ${path.relative(process.cwd(), DEMO_DATA) || DEMO_DATA}.\n\n`,
  );
  const retriever = new TwoStageRetriever({ stage1: source, compressor: reranker, recallK: 10, topK: 3 });
  for (const question of DEMO_QUESTIONS) {
    process.stdout.write(`${renderExplanation(await retriever.explain(question), source.scoreKind)}\n\n`);
  }
  await Promise.all([embeddings.dispose(), reranker.dispose()]);
  process.stdout.write(`Demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
}
