import { createRequire } from "node:module";
import type * as FaissNode from "faiss-node";

import { ModelLoadError } from "../../errors.js";

/** The faiss-node module (`IndexFlatIP`, `IndexFlatL2`, `Index`, `MetricType`). */
export type FaissModule = typeof FaissNode;

let cached: FaissModule | undefined;

/**
 * Loads faiss-node once. faiss-node is an optional dependency: its install needs GitHub (a prebuilt binary or a
 * `git clone` of faiss), so on offline, Alpine or arm64 machines it may be missing. The error then says how to
 * build it locally.
 */
export function loadFaiss(): FaissModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require("faiss-node") as FaissModule;
  } catch (error) {
    throw new ModelLoadError(
      "faiss-node could not be loaded, so the FAISS stage is unavailable. Its install downloads a prebuilt " +
        "binary (or clones faiss) from GitHub; where that fails, build it locally with `npx two-stage setup-faiss` " +
        "(builds faiss from Debian's source package with AVX2 + OpenBLAS), or pass any other LangChain vector store " +
        `as stage 1. Cause: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      { cause: error },
    );
  }
  return cached;
}
