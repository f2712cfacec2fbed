import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";

/** The environment variable that moves the default model directory. */
export const MODEL_DIRECTORY_ENV = "TWO_STAGE_MODEL_DIR";

/**
 * The one folder where this package keeps models by id (`<dir>/<org>/<name>/config.json`): what
 * `two-stage models import` writes and what every loader (embeddings, cross-encoder, the CLI) reads before the hub.
 * `$TWO_STAGE_MODEL_DIR` if set, else `$XDG_CACHE_HOME/two-stage-retriever/models`, else
 * `~/.cache/two-stage-retriever/models`. Never inside node_modules (transformers.js's own cache is), so a reinstall
 * keeps the models. Read at each call, so a changed environment takes effect at once.
 *
 * @example
 * ```ts
 * defaultModelDirectory({ HOME: "/home/ada" }); // "/home/ada/.cache/two-stage-retriever/models" (with os.homedir())
 * defaultModelDirectory({ TWO_STAGE_MODEL_DIR: "/srv/models" }); // "/srv/models"
 * ```
 */
export function defaultModelDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[MODEL_DIRECTORY_ENV];
  if (explicit !== undefined && explicit.trim() !== "") return path.resolve(explicit);
  const cache =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.trim() !== "" ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.resolve(cache, "two-stage-retriever", "models");
}

/**
 * The folder of model `id` under `root`. An id is one to three `/`-separated names of letters, digits, `.`, `_` and
 * `-` (hub ids are `org/name`), never `.` or `..`: an id can never point outside `root`.
 */
export function modelFolderFor(root: string, id: string): string {
  const parts = typeof id === "string" ? id.split("/") : [];
  if (
    parts.length === 0 ||
    parts.length > 3 ||
    parts.some((part) => !/^[A-Za-z0-9._-]+$/.test(part) || part === "." || part === "..")
  ) {
    throw new InvalidArgumentError(
      `Model id ${JSON.stringify(id)} is not usable as a folder name. Expected a hub-style id such as ` +
        "'Xenova/all-MiniLM-L6-v2' (letters, digits, '.', '_', '-', at most 3 parts separated by '/').",
      { argument: "id" },
    );
  }
  return path.join(path.resolve(root), ...parts);
}

/** The file that marks a model folder as written by this package, and records where its files came from. */
export const MODEL_MANIFEST_FILE = "two-stage-model.json";

/** One model folder found under a model directory. */
export interface ModelDirectoryEntry {
  /** The id it loads as (`org/name`). */
  id: string;
  dir: string;
  /** True when the folder carries this package's manifest (written by `two-stage models import`). */
  imported: boolean;
  /** The ONNX variants present: `model.onnx` (fp32) and/or `model_quantized.onnx` (int8). */
  variants: string[];
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** The models under `root` (`<org>/<name>` folders holding a `config.json`), for `two-stage doctor`. */
export function listModelDirectory(root: string = defaultModelDirectory()): ModelDirectoryEntry[] {
  const out: ModelDirectoryEntry[] = [];
  for (const org of subfolders(root)) {
    for (const name of subfolders(path.join(root, org))) {
      const dir = path.join(root, org, name);
      if (!fs.existsSync(path.join(dir, "config.json"))) continue;
      const variants = ["model.onnx", "model_quantized.onnx"].filter((file) =>
        fs.existsSync(path.join(dir, "onnx", file)),
      );
      out.push({ id: `${org}/${name}`, dir, imported: fs.existsSync(path.join(dir, MODEL_MANIFEST_FILE)), variants });
    }
  }
  return out;
}
