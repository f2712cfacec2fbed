import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import { BERT_SPECIAL_TOKENS, ROBERTA_SPECIAL_TOKENS, WordPieceTokenizer, corpusWords } from "./wordpiece.js";

/** Options of {@link buildTokenizer}. */
export interface BuildTokenizerParams {
  /** Texts the vocabulary is derived from (words by frequency, and every character seen). */
  corpus: readonly string[];
  /**
   * Largest vocabulary size, special tokens and character pieces included. Words are added by corpus frequency
   * until it is reached.
   * @default 30522
   */
  vocabSize?: number;
  /**
   * When true the vocabulary is padded with `[unusedN]` tokens to exactly `vocabSize` (as BERT vocabularies are).
   * @default false
   */
  padToVocabSize?: boolean;
  /**
   * The `model_max_length` written to `tokenizer_config.json`.
   * @default 512
   */
  modelMaxLength?: number;
  /**
   * Special tokens and pair template: `bert` (`[CLS] a [SEP] b [SEP]`, token type ids 0 then 1) or `roberta`
   * (XLM-R's `<s>`/`<pad>`/`</s>`/`<unk>` ids and `<s> a </s></s> b </s>` through a `RobertaProcessing`
   * post-processor).
   * @default "bert"
   */
  family?: "bert" | "roberta";
}

/** The special tokens of a tokenizer family, in id order, and their roles. */
function specialsOf(family: "bert" | "roberta") {
  return family === "roberta"
    ? { tokens: ROBERTA_SPECIAL_TOKENS, cls: "<s>", sep: "</s>", pad: "<pad>", unk: "<unk>", mask: "<mask>" }
    : { tokens: BERT_SPECIAL_TOKENS, cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]" };
}

// Every ASCII letter, digit and punctuation mark, so any ASCII text tokenizes without [UNK].
const BASE_CHARACTERS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
  (ch) => ch === ch.toLowerCase(),
);

/** The vocabulary {@link buildTokenizer} derives from a corpus: specials, characters, `##` pieces, words. */
export function deriveVocabulary(
  corpus: readonly string[],
  vocabSize: number,
  padToVocabSize = false,
  specials: readonly string[] = BERT_SPECIAL_TOKENS,
): string[] {
  const wordCounts = new Map<string, number>();
  const characters = new Set(BASE_CHARACTERS);
  for (const words of corpusWords(corpus)) {
    for (const word of words) {
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
      for (const ch of word) characters.add(ch);
    }
  }
  const chars = [...characters].sort();
  const vocab: string[] = [...specials, ...chars, ...chars.map((ch) => `##${ch}`)];
  if (vocab.length > vocabSize) {
    throw new InvalidArgumentError(
      `vocabSize ${vocabSize} is too small: the special tokens and the ${chars.length} characters of the corpus ` +
        `alone need ${vocab.length} entries. Pass vocabSize >= ${vocab.length}.`,
    );
  }
  const seen = new Set(vocab);
  const words = [...wordCounts.entries()]
    .filter(([word]) => !seen.has(word))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [word] of words) {
    if (vocab.length >= vocabSize) break;
    vocab.push(word);
  }
  for (let n = 0; padToVocabSize && vocab.length < vocabSize; n++) vocab.push(`[unused${n}]`);
  return vocab;
}

function tokenizerJson(vocab: readonly string[], family: "bert" | "roberta"): unknown {
  const roles = specialsOf(family);
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const special = (content: string) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const token = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: "A" | "B", typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: roles.tokens.map(special),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor:
      family === "roberta"
        ? {
            type: "RobertaProcessing",
            sep: [roles.sep, ids[roles.sep]],
            cls: [roles.cls, ids[roles.cls]],
            trim_offsets: true,
            add_prefix_space: true,
          }
        : {
            type: "TemplateProcessing",
            single: [token("[CLS]", 0), sequence("A", 0), token("[SEP]", 0)],
            pair: [token("[CLS]", 0), sequence("A", 0), token("[SEP]", 0), sequence("B", 1), token("[SEP]", 1)],
            special_tokens: {
              "[CLS]": { id: "[CLS]", ids: [ids["[CLS]"]], tokens: ["[CLS]"] },
              "[SEP]": { id: "[SEP]", ids: [ids["[SEP]"]], tokens: ["[SEP]"] },
            },
          },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: roles.unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes a BERT-uncased WordPiece tokenizer (`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`,
 * `vocab.txt`) to `dir`, with a vocabulary derived deterministically from `corpus`. transformers.js loads it with
 * `AutoTokenizer.from_pretrained(dir)`; pairs get `[CLS] a [SEP] b [SEP]` with `token_type_ids` 0 then 1, or with
 * `family: "roberta"` XLM-R's special tokens and `<s> a </s></s> b </s>`.
 *
 * @example
 * ```ts
 * const tokenizer = buildTokenizer("/tmp/tok", { corpus: ["FAISS finds neighbours"] });
 * tokenizer.tokenize("faiss neighbours!"); // ["faiss", "neighbours", "!"]
 * ```
 */
export function buildTokenizer(dir: string, params: BuildTokenizerParams): WordPieceTokenizer {
  const vocabSize = params.vocabSize ?? 30522;
  const modelMaxLength = params.modelMaxLength ?? 512;
  if (!Array.isArray(params.corpus)) {
    throw new InvalidArgumentError("buildTokenizer needs `corpus`: an array of strings to derive the vocabulary from.");
  }
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
    throw new InvalidArgumentError(`vocabSize must be a positive integer; got ${vocabSize}.`);
  }
  const family = params.family ?? "bert";
  if (family !== "bert" && family !== "roberta") {
    throw new InvalidArgumentError(`Unknown family '${String(family)}'. Expected one of: bert, roberta.`);
  }
  const roles = specialsOf(family);
  const vocab = deriveVocabulary(params.corpus, vocabSize, params.padToVocabSize ?? false, roles.tokens);
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, "tokenizer.json"), tokenizerJson(vocab, family));
  const specials = {
    ...(family === "roberta" ? { bos_token: roles.cls, eos_token: roles.sep } : {}),
    cls_token: roles.cls,
    sep_token: roles.sep,
    pad_token: roles.pad,
    unk_token: roles.unk,
    mask_token: roles.mask,
  };
  writeJson(path.join(dir, "tokenizer_config.json"), {
    tokenizer_class: family === "roberta" ? "XLMRobertaTokenizer" : "BertTokenizer",
    do_lower_case: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
    model_max_length: modelMaxLength,
    ...specials,
  });
  writeJson(path.join(dir, "special_tokens_map.json"), specials);
  fs.writeFileSync(path.join(dir, "vocab.txt"), `${vocab.join("\n")}\n`);
  return new WordPieceTokenizer(vocab, roles.unk);
}
