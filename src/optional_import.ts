import { TwoStageError } from "./errors.js";

/**
 * Imports an optional dependency (`pg`, PGlite), or says which feature needs it and how to install it.
 *
 * @param neededFor what needs the package, for the message ("A Postgres stage 1", "--store").
 */
export async function importOptional<T>(name: string, neededFor: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new TwoStageError(`${neededFor} needs the '${name}' package. Install it: npm install ${name}`, {
      cause: error,
    });
  }
}
