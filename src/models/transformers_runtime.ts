import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import type {
  ModelLocation,
  RuntimeEncoder,
  RuntimeLoadOptions,
  RuntimeSettings,
  RuntimeTokenizer,
  TransformersRuntime,
  TransformersRuntimeName,
} from "../inference/runtime_types.js";
import type { CrossEncoderSequenceModel } from "../inference/sequence_model.js";

export type {
  ModelLocation,
  RuntimeEncoder,
  RuntimeLoadOptions,
  RuntimeSettings,
  RuntimeTensor,
  RuntimeTokenizer,
  TransformersRuntime,
  TransformersRuntimeName,
} from "../inference/runtime_types.js";

// The one module that imports a transformers.js runtime. Every loader (tokenizers, the cross-encoder on the caller's
// thread and in the inference worker, the embeddings' pipeline), `doctor` and the CommonJS build go through
// `transformersRuntime()`; what differs between the runtimes (how an int8 file is asked for, the tokenizer's `encode`
// signature, where a model keeps its session) is answered here, once.

/** The transformers.js runtimes this package runs models with. */
export const TRANSFORMERS_RUNTIMES = [
  "@xenova/transformers",
  "@huggingface/transformers",
] as const satisfies readonly TransformersRuntimeName[];

/** The environment variable that picks the runtime when no `transformersRuntime` option does. */
export const TRANSFORMERS_RUNTIME_ENV = "TWO_STAGE_TRANSFORMERS_RUNTIME";

/** What the application asks for: a runtime by name, or `"auto"` (see {@link resolveRuntimeName}). */
export type TransformersRuntimeChoice = TransformersRuntimeName | "auto";

/* eslint-disable @typescript-eslint/no-explicit-any -- the two runtimes' own classes, used through this file only */
type RuntimeModule = {
  env: any;
  Tensor: new (type: string, data: unknown, dims: number[]) => any;
  AutoTokenizer: { from_pretrained(id: string, options?: object): Promise<any> };
  AutoModel: { from_pretrained(id: string, options?: object): Promise<any> };
  AutoModelForSequenceClassification: { from_pretrained(id: string, options?: object): Promise<any> };
};

/** The runtimes' import expressions, spelled out so bundlers and the CommonJS build see the package names. */
const IMPORTS: Record<TransformersRuntimeName, () => Promise<unknown>> = {
  "@xenova/transformers": () => import("@xenova/transformers"),
  "@huggingface/transformers": () => import("@huggingface/transformers"),
};

const require = createRequire(import.meta.url);

/**
 * The folder of an installed package, found from its entry point (a package whose `exports` omit `package.json`,
 * as `@huggingface/transformers` 4's do, cannot be resolved by `<name>/package.json`).
 */
function packageFolder(name: string, from: NodeJS.Require = require): string | undefined {
  let entry: string;
  try {
    entry = from.resolve(name);
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === name) {
      return dir;
    }
  }
  return undefined;
}

function versionAt(dir: string | undefined): string | undefined {
  return dir && (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: string }).version;
}

function installedVersion(name: string): string | undefined {
  return versionAt(packageFolder(name));
}

/** The onnxruntime-node version a runtime package resolves (its own nested copy, else the hoisted one). */
function onnxVersion(runtime: TransformersRuntimeName): string | undefined {
  const dir = packageFolder(runtime);
  return dir && versionAt(packageFolder("onnxruntime-node", createRequire(path.join(dir, "package.json"))));
}

/** Whether a runtime package is installed where this package can load it. */
export function runtimeInstalled(name: TransformersRuntimeName): boolean {
  return installedVersion(name) !== undefined;
}

function checkChoice(value: string, where: string): TransformersRuntimeChoice {
  if (value === "auto" || (TRANSFORMERS_RUNTIMES as readonly string[]).includes(value)) {
    return value as TransformersRuntimeChoice;
  }
  throw new InvalidArgumentError(
    `${where} is '${value}'. Expected one of: auto, ${TRANSFORMERS_RUNTIMES.join(", ")}. Unset it for the default ` +
      "(@xenova/transformers, or @huggingface/transformers when only that one is installed).",
    { argument: "transformersRuntime" },
  );
}

/**
 * The runtime a choice names, and why: an explicit name (option, else `$TWO_STAGE_TRANSFORMERS_RUNTIME`) is used as
 * it is; `"auto"` (the default) is `@xenova/transformers` when it is installed (the dependency: scores match the
 * published parity fixtures), else `@huggingface/transformers` when that is.
 */
export function resolveRuntimeName(
  requested: TransformersRuntimeChoice | undefined,
  env: NodeJS.ProcessEnv = process.env,
  installed: (name: TransformersRuntimeName) => boolean = runtimeInstalled,
): { name: TransformersRuntimeName; chosenBy: string } {
  const fromEnv = env[TRANSFORMERS_RUNTIME_ENV]?.trim();
  const choice =
    requested !== undefined
      ? checkChoice(requested, "transformersRuntime")
      : fromEnv
        ? checkChoice(fromEnv, `$${TRANSFORMERS_RUNTIME_ENV}`)
        : "auto";
  const source = requested !== undefined ? "option" : fromEnv ? `$${TRANSFORMERS_RUNTIME_ENV}` : "default";
  if (choice !== "auto") return { name: choice, chosenBy: `${source}: ${choice}` };
  if (installed("@xenova/transformers")) return { name: "@xenova/transformers", chosenBy: `${source}: auto` };
  if (installed("@huggingface/transformers")) {
    return {
      name: "@huggingface/transformers",
      chosenBy: `${source}: auto (@xenova/transformers is not installed)`,
    };
  }
  return { name: "@xenova/transformers", chosenBy: `${source}: auto (no runtime installed)` };
}

/**
 * The 2.17 tokenizer call shapes over a 3 / 4 tokenizer (`encode(text, { text_pair })`). Its pipeline parts (4 keeps
 * them in `_tokenizer`, from @huggingface/tokenizers; 3 on the tokenizer) stay readable through the prototype, so the
 * reranker's tokenizer fingerprint sees the vocabulary and settings.
 */
function tokenizerV3(tokenizer: any): RuntimeTokenizer {
  const wrapped = Object.create(tokenizer._tokenizer ?? tokenizer) as RuntimeTokenizer;
  // Plain writable properties, as on a 2.17 tokenizer: callers may wrap `encode` (Object.create + assign).
  return Object.assign(wrapped, {
    encode: (text: string, textPair: string | null = null, options: { add_special_tokens?: boolean } = {}) =>
      tokenizer.encode(text, { text_pair: textPair, add_special_tokens: options.add_special_tokens ?? true }),
    batch: (texts: string[], options: object) => tokenizer(texts, options),
    model_max_length: tokenizer.model_max_length as number | undefined,
    pad_token_id: tokenizer.pad_token_id as number | undefined,
  });
}

/** A 2.17 tokenizer already has the call shapes; `batch` is its call. The object itself is kept (the fast path). */
function tokenizerV2(tokenizer: any): RuntimeTokenizer {
  if (typeof tokenizer.batch !== "function") {
    Object.defineProperty(tokenizer, "batch", {
      value: (texts: string[], options: object) => tokenizer(texts, options),
    });
  }
  return tokenizer as RuntimeTokenizer;
}

function sequenceModel(model: any): CrossEncoderSequenceModel {
  const session = model.session ?? model.sessions?.model;
  const call = ((inputs: Record<string, unknown>) => model(inputs)) as CrossEncoderSequenceModel;
  return Object.assign(call, {
    config: model.config,
    session: { inputNames: Array.isArray(session?.inputNames) ? [...session.inputNames] : undefined },
    dispose: () => model.dispose() as Promise<unknown>,
  });
}

function makeRuntime(name: TransformersRuntimeName, module: RuntimeModule, chosenBy: string): TransformersRuntime {
  const modern = name === "@huggingface/transformers";
  const wrapTokenizer = modern ? tokenizerV3 : tokenizerV2;
  const pretrained = (location: ModelLocation, options: RuntimeLoadOptions) => {
    // A local folder: 3 and 4 read a path that is no hub id as it is; 2.17 joins every id onto env.localModelPath,
    // so it gets the folder's name and its parent as the file cache, where it finds the files by that name.
    const legacyLocal = !modern && location.dir !== undefined;
    const cacheDir = legacyLocal ? path.dirname(location.dir!) : options.cacheDir;
    return {
      id: location.dir === undefined ? location.id : legacyLocal ? path.basename(location.dir) : location.dir,
      cacheDir,
      options: {
        // 2.17 picks the file with `quantized`; 3 and 4 with `dtype` (q8 is `model_quantized.onnx`) on a device.
        ...(modern ? { dtype: options.quantized ? "q8" : "fp32", device: "cpu" } : { quantized: options.quantized }),
        local_files_only: location.dir !== undefined || options.localFilesOnly,
        ...(cacheDir !== undefined ? { cache_dir: cacheDir } : {}),
      },
    };
  };
  /** `from_pretrained` arguments with the progress callback (functions stay on this thread). */
  const load = (location: ModelLocation, options: RuntimeLoadOptions): [string, object] => {
    const { id, options: plain } = pretrained(location, options);
    return [id, { ...plain, ...(options.onProgress ? { progress_callback: options.onProgress } : {}) }];
  };
  const encoder = (tokenizer: any, model: any, dispose: () => Promise<void>): RuntimeEncoder => ({
    tokenizer: wrapTokenizer(tokenizer),
    model: Object.assign((inputs: Record<string, unknown>) => model(inputs), { config: model.config }),
    dispose,
  });
  return {
    name,
    version: installedVersion(name) ?? "unknown",
    onnxRuntimeVersion: onnxVersion(name),
    env: module.env as RuntimeSettings,
    chosenBy,
    tensor: (type, data, dims) => new module.Tensor(type, data, dims),
    pretrained,
    loadTokenizer: async (location, options) =>
      wrapTokenizer(await module.AutoTokenizer.from_pretrained(...load(location, options))),
    loadSequenceClassifier: async (location, options) =>
      sequenceModel(await module.AutoModelForSequenceClassification.from_pretrained(...load(location, options))),
    loadEncoder: async (location, options) => {
      const [tokenizer, model] = await Promise.all([
        module.AutoTokenizer.from_pretrained(...load(location, options)),
        module.AutoModel.from_pretrained(...load(location, options)),
      ]);
      return encoder(tokenizer, model, async () => {
        await model.dispose();
      });
    },
    encoderFromPipeline: (pipeline) => encoder(pipeline.tokenizer, pipeline.model, async () => undefined),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Whether an import failed because the loader (Jest's CommonJS runtime) has no ES module support. */
function importNeedsEsmSupport(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    code === "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING" ||
    code === "ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG" ||
    /experimental-vm-modules/.test(message)
  );
}

const LOADED = Symbol.for("two-stage-retriever.transformers-runtimes.v1");

function loaded(): Map<TransformersRuntimeName, Promise<TransformersRuntime>> {
  const scope = globalThis as { [LOADED]?: Map<TransformersRuntimeName, Promise<TransformersRuntime>> };
  scope[LOADED] ??= new Map();
  return scope[LOADED];
}

/**
 * The transformers.js runtime to load models with, imported once per process: the one `requested` names, else
 * `$TWO_STAGE_TRANSFORMERS_RUNTIME`, else `@xenova/transformers` (or `@huggingface/transformers` when only that one
 * is installed). A runtime that is not installed is an error naming the install command.
 */
export function transformersRuntime(requested?: TransformersRuntimeChoice): Promise<TransformersRuntime> {
  const { name, chosenBy } = resolveRuntimeName(requested);
  let runtime = loaded().get(name);
  if (!runtime) {
    runtime = IMPORTS[name]().then(
      (module) => makeRuntime(name, module as RuntimeModule, chosenBy),
      (error: unknown) => {
        loaded().delete(name);
        if (importNeedsEsmSupport(error)) {
          throw new ModelLoadError(
            `${name} is an ES module, and the module loader running this code cannot import ES modules: Jest ` +
              "without --experimental-vm-modules (Node.js itself can, on every version this package supports). Run " +
              "Jest with NODE_OPTIONS=--experimental-vm-modules and testEnvironment " +
              '"two-stage-retriever/jest-environment", or install @huggingface/transformers (it ships CommonJS) and ' +
              "choose it: TWO_STAGE_TRANSFORMERS_RUNTIME=@huggingface/transformers (or the transformersRuntime option).",
            { cause: error },
          );
        }
        throw new ModelLoadError(
          `The transformers.js runtime '${name}' (${chosenBy}) could not be loaded: ` +
            `${error instanceof Error ? error.message.split("\n")[0] : String(error)}. ` +
            (name === "@huggingface/transformers"
              ? "Install it beside this package: ONNXRUNTIME_NODE_INSTALL=skip npm install @huggingface/transformers " +
                "(the variable skips onnxruntime-node's optional CUDA download; for 3.x it is " +
                "ONNXRUNTIME_NODE_INSTALL_CUDA=skip), or unset the choice to use @xenova/transformers."
              : "Reinstall this package (npm install two-stage-retriever), or choose @huggingface/transformers."),
          { cause: error },
        );
      },
    );
    loaded().set(name, runtime);
  }
  return runtime;
}
