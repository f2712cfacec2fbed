export { TwoStageError, InvalidArgumentError, ModelLoadError, IndexError } from "./errors.js";
export type { TwoStageErrorOptions } from "./errors.js";
export { loadFaiss } from "./recall/faiss_native.js";
export type { FaissModule } from "./recall/faiss_native.js";
