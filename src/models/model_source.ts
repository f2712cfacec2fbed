import fs from "node:fs";
import path from "node:path";

import { env } from "@xenova/transformers";

import { ModelLoadError } from "../errors.js";
import { defaultModelDirectory } from "./model_directory.js";

/** Where to load a model from, as `from_pretrained` needs it. */
export interface ModelSource {
  /** What to pass to `from_pretrained`: a hub id, or a path relative to `env.localModelPath`. */
  id: string;
  /** True for local directories: never touch the network. */
  localFilesOnly: boolean;
  /** The resolved local directory, when the model is local. */
  dir?: string;
}

/** Options shared by every component that loads a transformers.js model. */
export interface ModelSourceParams {
  /**
   * A folder holding models by id (`<root>/<org>/<name>/config.json`, the layout `huggingface-cli download
   * --local-dir` and transformers.js's `env.localModelPath` use, and the one `two-stage models import` writes).
   * Checked after a directory of that name in the working directory and before the hub.
   * @default the default model directory: `$TWO_STAGE_MODEL_DIR`, else `$XDG_CACHE_HOME/two-stage-retriever/models`,
   * else `~/.cache/two-stage-retriever/models` (see {@link defaultModelDirectory})
   */
  localModelRoot?: string;
  /**
   * Never contact the hub; a model that is not a local directory (or under `localModelRoot`) is an error.
   * @default false (also offline when transformers.js has `env.allowRemoteModels = false`)
   */
  offline?: boolean;
}

function isDirectory(candidate: string): boolean {
  try {
    return fs.statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checks that a local model directory has what transformers.js will read, so a missing file is reported by name
 * (with how to get it) instead of as a fetch error deep inside the runtime.
 */
export function checkModelDirectory(dir: string, quantized: boolean, name: string): void {
  const onnxFile = path.join("onnx", quantized ? "model_quantized.onnx" : "model.onnx");
  for (const file of ["config.json", "tokenizer.json", onnxFile]) {
    if (!fs.existsSync(path.join(dir, file))) {
      const hint =
        file === onnxFile
          ? `Export the model to ONNX (optimum-cli export onnx --model <hf-id> ${dir}; move model.onnx into onnx/), ` +
            `copy it from a Xenova/* hub repository, or pass quantized: ${!quantized} if only ` +
            `${quantized ? "model.onnx" : "model_quantized.onnx"} is present` +
            (quantized ? " (or import the int8 artifact too: two-stage models import <...-q.jar>)." : ".")
          : `Copy it from the model's hub repository (e.g. huggingface-cli download ${name} --local-dir ${dir}).`;
      throw new ModelLoadError(`Model directory '${dir}' has no ${file}. ${hint}`);
    }
  }
}

/** The model root `params` selects: `localModelRoot`, else the default model directory. */
export function modelRoot(params: ModelSourceParams = {}): string {
  return path.resolve(params.localModelRoot ?? defaultModelDirectory());
}

/** Where a model name is looked for on disk, in order: as a path (working directory), then under the model root. */
export function localModelCandidates(model: string, params: ModelSourceParams = {}): string[] {
  const candidates = [path.resolve(model)];
  if (!path.isAbsolute(model)) candidates.push(path.resolve(modelRoot(params), model));
  return [...new Set(candidates)];
}

/**
 * The local directory `model` names (absolute, relative to the working directory, or under `localModelRoot`, which
 * defaults to the default model directory).
 */
export function localModelDirectory(model: string, params: ModelSourceParams = {}): string | undefined {
  return localModelCandidates(model, params).find(isDirectory);
}

/**
 * True for a name that can only be meant as a local path: it starts with `./`, `../`, `/`, `~` or a drive letter,
 * holds a backslash, or has more than one `/` (hub ids are `org/name`).
 */
export function looksLikePath(model: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(model) || model.includes("\\") || model.split("/").length > 2;
}

/**
 * Resolves a model name to something `from_pretrained` can load: an existing directory (absolute, relative to the
 * working directory, or under `localModelRoot`) loads from disk only; anything else is a hub id, refused when
 * offline. transformers.js joins ids onto `env.localModelPath`, so local directories are passed relative to it.
 */
export function resolveModelSource(model: string, quantized: boolean, params: ModelSourceParams = {}): ModelSource {
  const dir = localModelDirectory(model, params);
  if (dir) {
    checkModelDirectory(dir, quantized, model);
    return { id: path.relative(path.resolve(env.localModelPath), dir), localFilesOnly: true, dir };
  }
  if (looksLikePath(model)) {
    const candidates = localModelCandidates(model, params);
    throw new ModelLoadError(
      `Model folder '${model}' does not exist (looked in ${candidates.join(" and ")}). A name like this is a local ` +
        "path, never a hub id, so nothing is downloaded: check the path (an index's two-stage.json names the models " +
        "it was built with, relative to the working directory), or pass the model again.",
    );
  }
  const offline = params.offline === true || env.allowRemoteModels === false;
  if (offline) {
    throw new ModelLoadError(
      `Model '${model}' is not a local directory (looked in ${localModelCandidates(model, params).join(" and ")}), ` +
        `and hub downloads are off (${params.offline ? "offline: true" : "env.allowRemoteModels = false"}). ` +
        `Pass the path of a downloaded model directory (config.json, tokenizer.json, onnx/model_quantized.onnx), ` +
        `import the model from an artifact (two-stage models import <jar|whl|zip|folder> --id ${model}) into the ` +
        `model directory ${modelRoot(params)}, or set localModelRoot to a folder holding '${model}/'.`,
    );
  }
  return { id: model, localFilesOnly: false };
}
