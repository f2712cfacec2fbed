/**
 * Errors thrown by two-stage-retriever's own checks are {@link TwoStageError}s; the subclasses mark the cases a
 * caller may want to handle differently. Errors raised inside a dependency you passed in (your embeddings, your
 * vector store, your compressor) reach you unchanged. Use the static `isInstance` guards rather than `instanceof`: they also
 * recognise errors thrown by a second installed copy of this package.
 */

const MARKER = Symbol.for("two-stage-retriever.error");

/** Options accepted by every error constructor. */
export interface TwoStageErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error this package throws.
 *
 * @example
 * ```ts
 * try {
 *   new CrossEncoderCompressor({ topN: 0 });
 * } catch (error) {
 *   InvalidArgumentError.isInstance(error); // true
 *   (error as Error).message; // "topN must be a positive integer; got 0."
 * }
 * ```
 */
export class TwoStageError extends Error {
  readonly [MARKER] = true;

  /** A stable machine-readable kind, e.g. `"invalid_argument"`. */
  readonly code: string = "two_stage_error";

  constructor(message: string, options: TwoStageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }

  /** True for any error thrown by two-stage-retriever, from any installed copy. */
  static isInstance(error: unknown): error is TwoStageError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

function hasCode(error: unknown, code: string): boolean {
  return TwoStageError.isInstance(error) && error.code === code;
}

/** Options of {@link InvalidArgumentError}. */
export interface InvalidArgumentErrorOptions extends TwoStageErrorOptions {
  /** The parameter or input at fault, e.g. `"recallK"` or `"documents[3].pageContent"`. */
  argument?: string;
}

/**
 * A parameter or input has the wrong type, range or shape. The message names the value and the fix; `argument`
 * names the parameter.
 */
export class InvalidArgumentError extends TwoStageError {
  override readonly code: string = "invalid_argument";

  /** The parameter or input at fault, when known. */
  readonly argument?: string;

  constructor(message: string, options: InvalidArgumentErrorOptions = {}) {
    super(message, options);
    this.argument = options.argument;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return hasCode(error, "invalid_argument");
  }
}

/** A model, tokenizer or native library could not be found or loaded. */
export class ModelLoadError extends TwoStageError {
  override readonly code: string = "model_load";

  static override isInstance(error: unknown): error is ModelLoadError {
    return hasCode(error, "model_load");
  }
}

/** A saved index is missing, unreadable or inconsistent with its document store. */
export class IndexError extends TwoStageError {
  override readonly code: string = "index";

  static override isInstance(error: unknown): error is IndexError {
    return hasCode(error, "index");
  }
}

/**
 * A retriever or store was used after `dispose()`. Every call on it throws this (never an empty answer); build or
 * load a new one.
 */
export class DisposedError extends TwoStageError {
  override readonly code: string = "disposed";

  static override isInstance(error: unknown): error is DisposedError {
    return hasCode(error, "disposed");
  }
}

/** Options of {@link RemoteServiceError}. */
export interface RemoteServiceErrorOptions extends TwoStageErrorOptions {
  /** The HTTP status the server answered with; undefined when no answer came (refused, reset, timed out). */
  status?: number;
}

/**
 * A remote reranker (a TEI or Cohere-compatible server) could not be reached, timed out, refused the request or
 * answered in a shape that is not its API's. The message names the server (never the API key) and what to do;
 * `status` is the HTTP status when there was an answer.
 */
export class RemoteServiceError extends TwoStageError {
  override readonly code: string = "remote_service";

  /** The HTTP status of the answer, when there was one. */
  readonly status?: number;

  constructor(message: string, options: RemoteServiceErrorOptions = {}) {
    super(message, options);
    this.status = options.status;
  }

  static override isInstance(error: unknown): error is RemoteServiceError {
    return hasCode(error, "remote_service");
  }
}
