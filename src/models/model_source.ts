import fs from "node:fs";
import path from "node:path";

import { ModelLoadError } from "../errors.js";
import { MODEL_MANIFEST_FILE, defaultModelDirectory } from "./model_directory.js";
import type { RuntimeLoadOptions, TransformersRuntimeChoice } from "./transformers_runtime.js";
import { progressReporter } from "./progress.js";
import type { ProgressEvent } from "./types.js";

/** Where to load a model from, as `from_pretrained` needs it. */
export interface ModelSource {
  /** A hub id, or the absolute local directory (the runtime adapter turns it into what `from_pretrained` takes). */
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
  /**
   * Which transformers.js runtime loads and runs the model: `@xenova/transformers` 2.17 (this package's dependency),
   * `@huggingface/transformers` 3 or 4 (an optional peer: install it beside this package), or `"auto"`.
   * @default `$TWO_STAGE_TRANSFORMERS_RUNTIME`, else "auto": `@xenova/transformers`, or `@huggingface/transformers`
   * when only that one is installed
   */
  transformersRuntime?: TransformersRuntimeChoice;
  /**
   * Called with progress: each model file's download (`phase: "download"`, the runtime's own events) and, for
   * embeddings, texts embedded so far (`phase: "embed"`). Inside a LangChain run the same events also reach its
   * callbacks as the custom event `"two_stage_progress"` (`handleCustomEvent`).
   * @default none
   */
  onProgress?: (event: ProgressEvent) => void;
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
 * Resolves a model name to where it loads from: an existing directory (absolute, relative to the working directory,
 * or under `localModelRoot`) loads from disk only; anything else is a hub id, refused when offline (`params.offline`,
 * or the runtime's `env.allowRemoteModels` is false).
 */
export function resolveModelSource(
  model: string,
  quantized: boolean,
  params: ModelSourceParams = {},
  runtimeSettings: { allowRemoteModels?: boolean } = {},
): ModelSource {
  const offline = params.offline === true || runtimeSettings.allowRemoteModels === false;
  const dir = localModelDirectory(model, params);
  if (dir) {
    try {
      checkModelDirectory(dir, quantized, model);
    } catch (error) {
      // A hub id whose folder in the model root lacks a file (the hub cache holds only what was downloaded so far,
      // e.g. the int8 file when fp32 is asked for): the hub completes it, into the same folder.
      const inCache = !looksLikePath(model) && dir === path.resolve(modelRoot(params), model);
      if (inCache && !offline && !fs.existsSync(path.join(dir, MODEL_MANIFEST_FILE))) {
        return { id: model, localFilesOnly: false };
      }
      throw error;
    }
    return { id: dir, localFilesOnly: true, dir };
  }
  if (looksLikePath(model)) {
    const candidates = localModelCandidates(model, params);
    throw new ModelLoadError(
      `Model folder '${model}' does not exist (looked in ${candidates.join(" and ")}). A name like this is a local ` +
        "path, never a hub id, so nothing is downloaded: check the path (an index's two-stage.json names the models " +
        "it was built with, relative to the working directory), or pass the model again.",
    );
  }
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

/**
 * What a runtime loads `location` with: the int8 or fp32 file, disk only for a local folder, the hub cache in the
 * model root (`localModelRoot`, else the default model directory: outside node_modules, so a reinstall keeps the
 * downloads, and a downloaded model is then found there by id, offline), and download progress as `onProgress`
 * events (and LangChain custom events, inside a run: see progress.ts).
 */
export function runtimeLoadOptions(
  location: ModelSource,
  quantized: boolean,
  params: ModelSourceParams = {},
): RuntimeLoadOptions {
  const report = progressReporter(params.onProgress);
  return {
    quantized,
    localFilesOnly: location.localFilesOnly,
    cacheDir: modelRoot(params),
    onProgress: report && ((event) => report({ ...event, phase: "download" })),
  };
}
