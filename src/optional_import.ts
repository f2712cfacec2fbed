import { TwoStageError } from "./errors.js";

/**
 * Imports an optional dependency (`pg`, PGlite), or says which feature needs it and how to install it.
 *
 * @param name the module imported: a package or one of its subpaths ("@modelcontextprotocol/sdk/server/mcp.js").
 * @param neededFor what needs the package, for the message ("A Postgres stage 1", "--store").
 * @param packageName the package to install, when `name` is a subpath of it.
 */
export async function importOptional<T>(name: string, neededFor: string, packageName: string = name): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new TwoStageError(`${neededFor} needs the '${packageName}' package. Install it: npm install ${packageName}`, {
      cause: error,
    });
  }
}
