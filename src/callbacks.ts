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
