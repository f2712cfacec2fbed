import { BaseCallbackHandler } from "@langchain/core/callbacks/base";

/** A callback handler that records the names of the chain runs that start and the outputs of those that end. */
export class RunRecorder extends BaseCallbackHandler {
  name = "run-recorder";
  readonly names: string[] = [];
  readonly ends: Record<string, unknown>[] = [];

  override async handleChainStart(
    _chain: unknown,
    _inputs: unknown,
    _runId: string,
    _parentRunId?: string,
    _tags?: string[],
    _metadata?: unknown,
    _runType?: string,
    runName?: string,
  ): Promise<void> {
    this.names.push(runName ?? "?");
  }

  override async handleChainEnd(outputs: Record<string, unknown>): Promise<void> {
    this.ends.push(outputs);
  }
}
