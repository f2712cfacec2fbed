import { type CallbackManagerForChainRun, type Callbacks, CallbackManager } from "@langchain/core/callbacks/manager";

/**
 * Starts a named child run (`recall`, `rerank`, `CrossEncoderCompressor`, …) so each stage shows up in LangChain
 * callbacks, tracing and `streamEvents` with its inputs; undefined when nobody listens.
 */
export async function startRun(
  callbacks: Callbacks | undefined,
  name: string,
  inputs: Record<string, unknown>,
): Promise<CallbackManagerForChainRun | undefined> {
  const manager = CallbackManager.configure(callbacks);
  return manager?.handleChainStart(
    { lc: 1, type: "not_implemented", id: ["two_stage_retriever", name] },
    inputs,
    undefined,
    undefined,
    undefined,
    undefined,
    name,
  );
}

/** What {@link withRun} hands back: the body's result and the run's milliseconds. */
export interface RunOutcome<T> {
  result: T;
  ms: number;
}

/**
 * Runs `body` as a named child run: starts it with `inputs`, ends it with `outputs(result, ms)`, or reports the
 * error and rethrows it. The one start/end/error pattern of every stage (recall, rerank, each reranker and cascade
 * stage); `body` gets the run to hand its own children (`run?.getChild()`).
 */
export async function withRun<T>(
  callbacks: Callbacks | undefined,
  name: string,
  inputs: Record<string, unknown>,
  body: (run: CallbackManagerForChainRun | undefined) => Promise<T>,
  outputs: (result: T, ms: number) => Record<string, unknown>,
): Promise<RunOutcome<T>> {
  const started = performance.now();
  const run = await startRun(callbacks, name, inputs);
  let result: T;
  try {
    result = await body(run);
  } catch (error) {
    await run?.handleChainError(error);
    throw error;
  }
  const ms = performance.now() - started;
  await run?.handleChainEnd(outputs(result, ms));
  return { result, ms };
}
