// Runs every bad call of bad_inputs.ts in a plain Node process (no jest): a faiss assertion would abort it
// (SIGABRT, exit 134) instead of throwing. Prints one JSON line per call, then a final search that must still work.
import { badCalls, outcome } from "./bad_inputs.js";

const { calls, store, cleanup } = await badCalls();
for (const call of calls) {
  process.stdout.write(`${JSON.stringify({ name: call.name, expected: call.code, got: await outcome(call) })}\n`);
}
const [[doc]] = await store.similaritySearchVectorWithScore([1, 0, 0, 0], 1);
process.stdout.write(`${JSON.stringify({ final: doc.pageContent, size: store.size })}\n`);
cleanup();
