import { InvalidArgumentError } from "../errors.js";

/** Parsed command-line arguments: positionals and `--name value` / `--flag` options. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

/**
 * Parses `argv` against the options a command accepts: `valued` take a value (`--x v` or `--x=v`), `flags` do not.
 * Unknown options are refused with the list of known ones.
 */
export function parseArgs(argv: string[], valued: readonly string[], flags: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.includes("=")
      ? [arg.slice(2, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg.slice(2), undefined];
    if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new InvalidArgumentError(`--${name} needs a value.`);
      if (
        inline === undefined &&
        value.startsWith("--") &&
        [...valued, ...flags].includes(value.slice(2).split("=")[0])
      ) {
        throw new InvalidArgumentError(`--${name} needs a value; it is followed by the option ${value}.`);
      }
      options.set(name, value);
    } else if (flags.includes(name)) {
      options.set(name, true);
    } else {
      const known = [...valued, ...flags].map((o) => `--${o}`).join(", ");
      throw new InvalidArgumentError(`Unknown option '--${name}'. Options here: ${known}.`);
    }
  }
  return { positionals, options };
}

/** A string option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === "string" ? value : undefined;
}

/** A positive integer option, or the default. */
export function intOption(args: ParsedArgs, name: string, fallback: number): number {
  return optionalIntOption(args, name) ?? fallback;
}

/** A positive integer option, or undefined when absent (the API then applies its own default). */
export function optionalIntOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`--${name} must be a positive integer; got '${raw}'.`);
  }
  return value;
}

/** A non-negative integer option (0 allowed, e.g. an overlap), or the default. */
export function nonNegativeIntOption(args: ParsedArgs, name: string, fallback: number): number {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`--${name} must be a whole number, 0 or more; got '${raw}'.`);
  }
  return value;
}

/** A comma-separated list of positive integers, or the default. */
export function intListOption(args: ParsedArgs, name: string, fallback: number[]): number[] {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new InvalidArgumentError(`--${name} must be comma-separated positive integers, e.g. 10,20,50; got '${raw}'.`);
  }
  return values;
}
