import fs from "node:fs";
import path from "node:path";

/** The package's source folder. */
export const SRC = path.resolve("src");

/** Every .ts and .mjs file under `dir`, recursively. */
export function sources(dir: string = SRC): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? sources(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
    .filter((file) => /\.(ts|mjs)$/.test(file));
}
