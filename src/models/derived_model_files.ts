import fs from "node:fs";
import path from "node:path";

import { ModelLoadError } from "../errors.js";
import type { EmbeddingProfileFacts } from "./embedding_profiles.js";
import type { OnnxModelFacts } from "./onnx_model_facts.js";

/** What a `tokenizer.json` says about itself. */
export interface TokenizerFacts {
  /** Largest token id + 1 (vocabulary and added tokens). */
  vocabSize: number;
  model: string;
  lowercase: boolean;
  padTokenId?: number;
  /** Special tokens present by role (BERT names). */
  specials: Partial<Record<"cls" | "sep" | "pad" | "unk" | "mask", string>>;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Reads the vocabulary size and special tokens of a Hugging Face `tokenizer.json`. */
export function readTokenizerFacts(file: string, shownAs: string): TokenizerFacts {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ModelLoadError(
      `${shownAs} is not a readable tokenizer.json (${error instanceof Error ? error.message : String(error)}). ` +
        "Pass the tokenizer.json that was exported with the model.",
      { cause: error },
    );
  }
  const model = isRecord(json) && isRecord(json.model) ? json.model : undefined;
  if (!isRecord(json) || !model) {
    throw new ModelLoadError(`${shownAs} has no 'model' section: it is not a Hugging Face tokenizer.json.`);
  }
  const ids = new Map<string, number>();
  if (isRecord(model.vocab)) {
    for (const [token, id] of Object.entries(model.vocab)) if (typeof id === "number") ids.set(token, id);
  } else if (Array.isArray(model.vocab)) {
    model.vocab.forEach((entry, id) => ids.set(Array.isArray(entry) ? String(entry[0]) : String(entry), id));
  }
  for (const added of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    if (isRecord(added) && typeof added.content === "string" && typeof added.id === "number") {
      ids.set(added.content, added.id);
    }
  }
  if (ids.size === 0)
    throw new ModelLoadError(`${shownAs} has an empty vocabulary; pass the model's own tokenizer.json.`);
  const normalizer = isRecord(json.normalizer) ? json.normalizer : {};
  const lowercase =
    normalizer.lowercase === true ||
    (Array.isArray(normalizer.normalizers) &&
      normalizer.normalizers.some((n) => isRecord(n) && n.type === "Lowercase"));
  const specials: TokenizerFacts["specials"] = {};
  for (const [role, token] of [
    ["cls", "[CLS]"],
    ["sep", "[SEP]"],
    ["pad", "[PAD]"],
    ["unk", "[UNK]"],
    ["mask", "[MASK]"],
  ] as const) {
    if (ids.has(token)) specials[role] = token;
  }
  return {
    vocabSize: Math.max(...ids.values()) + 1,
    model: typeof model.type === "string" ? model.type : "unknown",
    lowercase,
    padTokenId: specials.pad ? ids.get(specials.pad) : undefined,
    specials,
  };
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a BERT `config.json` from the graph's facts (what transformers.js reads to pick and shape the model). */
export function writeDerivedConfig(dir: string, facts: OnnxModelFacts, tokenizer: TokenizerFacts): Json {
  const classifier = facts.head.kind === "classifier" ? facts.head.labels : undefined;
  const labels: Json = {};
  if (classifier !== undefined) {
    const id2label: Record<string, string> = {};
    const label2id: Record<string, number> = {};
    for (let i = 0; i < classifier; i++) {
      id2label[String(i)] = `LABEL_${i}`;
      label2id[`LABEL_${i}`] = i;
    }
    Object.assign(labels, { id2label, label2id });
  }
  const config: Json = {
    model_type: "bert",
    architectures: [classifier === undefined ? "BertModel" : "BertForSequenceClassification"],
    vocab_size: facts.vocabSize,
    hidden_size: facts.hiddenSize,
    num_hidden_layers: facts.layers,
    ...(facts.heads !== undefined ? { num_attention_heads: facts.heads } : {}),
    ...(facts.intermediateSize !== undefined ? { intermediate_size: facts.intermediateSize } : {}),
    max_position_embeddings: facts.maxPositions,
    type_vocab_size: facts.typeVocabSize ?? 2,
    hidden_act: "gelu",
    layer_norm_eps: 1e-12,
    pad_token_id: tokenizer.padTokenId ?? 0,
    ...labels,
  };
  writeJson(path.join(dir, "config.json"), config);
  return config;
}

/** Writes a `tokenizer_config.json` for a BERT WordPiece tokenizer (transformers.js reads it beside tokenizer.json). */
export function writeDerivedTokenizerConfig(dir: string, tokenizer: TokenizerFacts, modelMaxLength: number): Json {
  const config: Json = {
    tokenizer_class: "BertTokenizer",
    do_lower_case: tokenizer.lowercase,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    ...(tokenizer.specials.cls ? { cls_token: tokenizer.specials.cls } : {}),
    ...(tokenizer.specials.sep ? { sep_token: tokenizer.specials.sep } : {}),
    ...(tokenizer.specials.pad ? { pad_token: tokenizer.specials.pad } : {}),
    ...(tokenizer.specials.unk ? { unk_token: tokenizer.specials.unk } : {}),
    ...(tokenizer.specials.mask ? { mask_token: tokenizer.specials.mask } : {}),
  };
  writeJson(path.join(dir, "tokenizer_config.json"), config);
  return config;
}

/**
 * Writes the sentence-transformers files that carry an embedding model's profile inside its folder (read back by
 * `readSentenceTransformersConfig`): `modules.json` (Pooling, and Normalize when normalised), `1_Pooling/config.json`,
 * `config_sentence_transformers.json` (query / document prompts) and `sentence_bert_config.json` (`max_seq_length`).
 * Returns the files written.
 */
export function writeSentenceTransformersFiles(
  dir: string,
  profile: EmbeddingProfileFacts,
  hiddenSize: number | undefined,
): string[] {
  const modules: Json[] = [
    { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
    { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
  ];
  if (profile.normalize)
    modules.push({ idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" });
  writeJson(path.join(dir, "modules.json"), modules);
  writeJson(path.join(dir, "1_Pooling", "config.json"), {
    ...(hiddenSize !== undefined ? { word_embedding_dimension: hiddenSize } : {}),
    pooling_mode_cls_token: profile.pooling === "cls",
    pooling_mode_mean_tokens: profile.pooling === "mean",
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  writeJson(path.join(dir, "config_sentence_transformers.json"), {
    prompts: { query: profile.queryPrefix, document: profile.documentPrefix },
    default_prompt_name: null,
  });
  const files = ["modules.json", "1_Pooling/config.json", "config_sentence_transformers.json"];
  if (profile.maxLength !== undefined) {
    writeJson(path.join(dir, "sentence_bert_config.json"), { max_seq_length: profile.maxLength, do_lower_case: false });
    files.push("sentence_bert_config.json");
  }
  return files;
}
