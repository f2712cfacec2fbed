import fs from "node:fs";
import path from "node:path";

import { ModelLoadError } from "../errors.js";
import type { EmbeddingProfileFacts } from "./types.js";

/** What a local model folder's sentence-transformers files say, and which files said it. */
export interface SentenceTransformersFacts extends Partial<EmbeddingProfileFacts> {
  /** The files read, relative to the model folder. */
  files: string[];
  /** A pooling mode the Pooling config selects that this package does not implement (e.g. `max_tokens`). */
  unsupportedPooling?: string;
}

interface ModuleEntry {
  type?: string;
  path?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new ModelLoadError(
      `Could not read ${file}: ${error instanceof Error ? error.message : String(error)}. Fix or remove the file.`,
      { cause: error },
    );
  }
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The pooling a `1_Pooling/config.json` selects, or the modes it selects when this package lacks them. */
function poolingOf(config: Record<string, unknown>): Pick<SentenceTransformersFacts, "pooling" | "unsupportedPooling"> {
  const modes = Object.entries(config)
    .filter(([key, on]) => key.startsWith("pooling_mode_") && on === true)
    .map(([key]) => key.slice("pooling_mode_".length));
  if (modes.length === 0) return {};
  if (modes.length === 1 && modes[0] === "cls_token") return { pooling: "cls" };
  if (modes.length === 1 && modes[0] === "mean_tokens") return { pooling: "mean" };
  return { unsupportedPooling: modes.join(" + ") };
}

/**
 * Reads the sentence-transformers files of a local model folder: `modules.json` (which Pooling and Normalize
 * modules run), the Pooling module's `config.json` (mean or CLS), `config_sentence_transformers.json` (`prompts`:
 * query and document prefixes) and `sentence_bert_config.json` (`max_seq_length`). Returns undefined when the
 * folder has none of them.
 */
export function readSentenceTransformersConfig(dir: string): SentenceTransformersFacts | undefined {
  const facts: SentenceTransformersFacts = { files: [] };
  const modulesFile = path.join(dir, "modules.json");
  let poolingDir = "1_Pooling";
  if (fs.existsSync(modulesFile)) {
    facts.files.push("modules.json");
    const modules = readJson(modulesFile);
    const entries: ModuleEntry[] = Array.isArray(modules) ? modules.map((m) => record(m) as ModuleEntry) : [];
    const pooling = entries.find((m) => m.type?.endsWith("models.Pooling"));
    if (pooling?.path) poolingDir = pooling.path;
    if (entries.some((m) => m.type?.endsWith("models.Normalize"))) facts.normalize = true;
  }
  const poolingFile = path.join(dir, poolingDir, "config.json");
  if (fs.existsSync(poolingFile)) {
    facts.files.push(path.join(poolingDir, "config.json"));
    Object.assign(facts, poolingOf(record(readJson(poolingFile))));
  }
  const promptsFile = path.join(dir, "config_sentence_transformers.json");
  if (fs.existsSync(promptsFile)) {
    facts.files.push("config_sentence_transformers.json");
    const prompts = record(record(readJson(promptsFile)).prompts);
    const pick = (...names: string[]) =>
      names.map((n) => prompts[n]).find((p) => typeof p === "string") as string | undefined;
    facts.queryPrefix = pick("query", "search_query");
    facts.documentPrefix = pick("document", "passage", "search_document", "corpus");
  }
  const bertConfigFile = path.join(dir, "sentence_bert_config.json");
  if (fs.existsSync(bertConfigFile)) {
    facts.files.push("sentence_bert_config.json");
    const maxSeqLength = record(readJson(bertConfigFile)).max_seq_length;
    if (typeof maxSeqLength === "number" && Number.isInteger(maxSeqLength) && maxSeqLength > 0) {
      facts.maxLength = maxSeqLength;
    }
  }
  return facts.files.length > 0 ? facts : undefined;
}
