import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** This package's version (package.json beside `dist/`, or beside `src/` in the repository), or "unknown". */
export function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  try {
    return (JSON.parse(fs.readFileSync(path.join(here, "..", "..", "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "unknown";
  }
}
