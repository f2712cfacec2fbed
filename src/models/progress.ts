import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import type { RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

import type { ProgressEvent } from "./types.js";

/** The name of the LangChain custom event that carries a {@link ProgressEvent} (`handleCustomEvent`). */
export const PROGRESS_EVENT = "two_stage_progress";

/** Whether the code runs inside a LangChain run that has callbacks (a chain, a retriever's invoke). */
function runConfig(): RunnableConfig | undefined {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined;
  return config?.callbacks ? config : undefined;
}

/**
 * Where progress goes: the `onProgress` option, and the callbacks of the LangChain run this is called in, as the
 * custom event {@link PROGRESS_EVENT}. Undefined when there is nobody to tell (so a load asks the runtime for no
 * progress at all). A failing callback handler is LangChain's to report (its callback manager logs it); progress
 * never stops the work.
 */
export function progressReporter(
  onProgress: ((event: ProgressEvent) => void) | undefined,
): ((event: ProgressEvent) => void) | undefined {
  const config = runConfig();
  if (!onProgress && !config) return undefined;
  return (event) => {
    onProgress?.(event);
    if (config) void dispatchCustomEvent(PROGRESS_EVENT, event, config).catch(() => undefined);
  };
}
