import { InvalidArgumentError } from "./errors.js";

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : typeof value;
}

/** Throws unless `value` is a positive integer (an undefined value is an unset option and passes). */
export function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
    throw new InvalidArgumentError(
      `${name} must be a positive integer; got ${typeof value === "number" ? value : describeValue(value)}.`,
      {
        argument: name,
      },
    );
  }
}

/** Throws unless `query` is a non-empty string. */
export function checkQuery(query: unknown): asserts query is string {
  if (typeof query !== "string" || query.trim() === "") {
    throw new InvalidArgumentError(
      `query must be a non-empty string; got ${describeValue(query)}. Pass the user's question.`,
      { argument: "query" },
    );
  }
}
