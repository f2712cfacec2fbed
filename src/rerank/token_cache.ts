import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";

import type { CrossEncoderTokenizer } from "./cross_encoder_model.js";

/**
 * The parts of a transformers.js `PreTrainedTokenizer` the fast path reads. Tokenizers that lack them (injected
 * stand-ins) are tokenized with `encode`.
 */
interface TransformersTokenizerParts {
  normalizer?: (((text: string) => string) & { config?: unknown }) | null;
  pre_tokenizer?: ((text: string, options?: object) => string[]) & { config?: unknown };
  model?: ((tokens: string[]) => string[]) & {
    config?: { type?: string };
    vocab?: readonly string[];
    convert_tokens_to_ids: (tokens: string[]) => number[];
    fuse_unk?: boolean;
  };
  added_tokens_regex?: RegExp | null;
  added_tokens?: readonly { content: string }[];
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
}

/** Words whose WordPiece ids a tokenizer memoises; past this the memo is cleared (memory stays bounded). */
const WORD_MEMO_ENTRIES = 200_000;

const fingerprints = new WeakMap<object, string>();
const wordMemos = new WeakMap<object, Map<string, number[]>>();
let anonymous = 0;

/**
 * A key equal for tokenizers that split every text into the same ids: a hash of the normaliser and pre-tokenizer
 * settings, the model type, the vocabulary and the added tokens. Two cascade stages loaded from different folders
 * with the same vocabulary (TinyBERT and MiniLM rerankers share bert-base-uncased's) get the same key; a tokenizer
 * without a readable vocabulary gets a key of its own.
 */
export function tokenizerFingerprint(tokenizer: CrossEncoderTokenizer): string {
  const known = fingerprints.get(tokenizer);
  if (known !== undefined) return known;
  const parts = tokenizer as unknown as TransformersTokenizerParts;
  let key: string;
  if (Array.isArray(parts.model?.vocab)) {
    const hash = createHash("sha1");
    hash.update(
      JSON.stringify([
        parts.normalizer?.config ?? null,
        parts.pre_tokenizer?.config ?? null,
        parts.model?.config?.type ?? null,
        parts.added_tokens?.map((t) => t.content) ?? null,
        parts.remove_space ?? null,
        parts.do_lowercase_and_remove_accent ?? null,
      ]),
    );
    for (const token of parts.model.vocab) hash.update(`${token ?? ""}\u0000`);
    key = `vocab:${hash.digest("base64")}`;
  } else {
    anonymous += 1;
    key = `tokenizer:${anonymous}`;
  }
  fingerprints.set(tokenizer, key);
  return key;
}

type WordPieceParts = TransformersTokenizerParts & {
  model: NonNullable<TransformersTokenizerParts["model"]>;
  pre_tokenizer: NonNullable<TransformersTokenizerParts["pre_tokenizer"]>;
};

/** The tokenizer's steps when it is a transformers.js WordPiece tokenizer the fast path can run one by one. */
function wordPieceParts(tokenizer: CrossEncoderTokenizer): WordPieceParts | undefined {
  const parts = tokenizer as unknown as TransformersTokenizerParts;
  const { model } = parts;
  const runnable =
    typeof model === "function" &&
    model.config?.type === "WordPiece" &&
    model.fuse_unk !== true &&
    typeof model.convert_tokens_to_ids === "function" &&
    typeof parts.pre_tokenizer === "function" &&
    (parts.normalizer == null || typeof parts.normalizer === "function") &&
    !parts.remove_space &&
    !parts.do_lowercase_and_remove_accent;
  return runnable ? (parts as WordPieceParts) : undefined;
}

/** Whether `text` contains an added (special) token literally, which `encode` keeps whole. */
function hasAddedToken(parts: TransformersTokenizerParts, text: string): boolean {
  const regex = parts.added_tokens_regex;
  if (!regex) return false;
  regex.lastIndex = 0;
  return regex.test(text);
}

/**
 * A document's token ids without special tokens: exactly `tokenizer.encode(text, null, { add_special_tokens: false
 * })`. For transformers.js WordPiece tokenizers (BERT, MiniLM, TinyBERT, ELECTRA rerankers) it runs the same
 * normaliser and pre-tokenizer and looks each word's pieces up in a per-tokenizer memo (WordPiece splits every word
 * on its own), skipping the pair post-processing `encode` builds and throws away; texts containing a special token
 * literally (e.g. "[SEP]") take `encode`.
 */
export function encodeText(tokenizer: CrossEncoderTokenizer, text: string): number[] {
  const parts = wordPieceParts(tokenizer);
  if (!parts || hasAddedToken(parts, text)) {
    return tokenizer.encode(text, null, { add_special_tokens: false });
  }
  const normalized = parts.normalizer ? parts.normalizer(text) : text;
  if (normalized.length === 0) return [];
  const words = parts.pre_tokenizer(normalized, { section_index: 0 });
  let memo = wordMemos.get(tokenizer);
  if (!memo) {
    memo = new Map();
    wordMemos.set(tokenizer, memo);
  }
  const ids: number[] = [];
  for (const word of words) {
    let pieces = memo.get(word);
    if (pieces === undefined) {
      pieces = parts.model.convert_tokens_to_ids(parts.model([word]));
      if (memo.size >= WORD_MEMO_ENTRIES) memo.clear();
      memo.set(word, pieces);
    }
    for (const id of pieces) ids.push(id);
  }
  return ids;
}

/**
 * Token ids of documents, shared by every reranker that runs inside {@link withTokenCache} with an equal-vocabulary
 * tokenizer: the stages of a cascade tokenize each candidate once. Entries live as long as the cache (one rerank
 * call), so memory is bounded by that call's candidates.
 */
export class TokenCache {
  private readonly byVocabulary = new Map<string, Map<string, number[]>>();
  /** Texts tokenized through this cache, and lookups it answered. */
  misses = 0;
  hits = 0;

  /** The ids of `text` (see {@link encodeText}); the same array for every caller, so treat it as read-only. */
  tokens(tokenizer: CrossEncoderTokenizer, text: string): readonly number[] {
    const key = tokenizerFingerprint(tokenizer);
    let texts = this.byVocabulary.get(key);
    if (!texts) {
      texts = new Map();
      this.byVocabulary.set(key, texts);
    }
    let ids = texts.get(text);
    if (ids === undefined) {
      ids = encodeText(tokenizer, text);
      texts.set(text, ids);
      this.misses += 1;
    } else {
      this.hits += 1;
    }
    return ids;
  }
}

const scope = new AsyncLocalStorage<TokenCache>();

/** Runs `fn` with `cache` as the token cache of every reranker call it makes (across awaits). */
export function withTokenCache<T>(cache: TokenCache, fn: () => Promise<T>): Promise<T> {
  return scope.run(cache, fn);
}

/**
 * A document's token ids (no special tokens): from the enclosing {@link withTokenCache} scope when there is one,
 * else tokenized with {@link encodeText}.
 */
export function documentTokens(tokenizer: CrossEncoderTokenizer, text: string): readonly number[] {
  const cache = scope.getStore();
  return cache ? cache.tokens(tokenizer, text) : encodeText(tokenizer, text);
}
