import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";

import type { CrossEncoderTokenizer } from "../models/cross_encoder_model.js";

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
    hash.update(parts.model.vocab.map((token) => token ?? "").join("\u0000")); // one update: ~30k tokens in a few ms
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

/** Characters per token assumed when tokenizing only a document's head (generous: English averages ~4.5). */
const CHARS_PER_TOKEN_BOUND = 8;
/** How many times the head grows (×4 each) when it holds too few tokens: up to 8·4² = 128 characters per token. */
const HEAD_GROWTH_STEPS = 2;

/** Where to cut `text` near `limit` so the head ends on whitespace (a pre-tokenization boundary) where possible. */
function cutPoint(text: string, limit: number): number {
  for (let i = limit; i > Math.max(0, limit - 1024); i--) {
    const code = text.charCodeAt(i - 1);
    if (code === 32 || code === 10 || code === 9 || code === 13) return i;
  }
  // No whitespace near the cut (a blob without spaces): cut anyway, never inside a surrogate pair.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * The first `budget` tokens of `text`, reading a bounded head of it: the head is cut at a whitespace boundary, and
 * BERT-style tokenization (per-character normalisation, whitespace/punctuation pre-tokenization) of such a head is
 * exactly a prefix of the whole text's tokens. The head starts at `budget × 8` characters and grows ×4 (twice) while
 * it holds fewer than `budget` tokens, so a document costs at most `budget × 128` characters of tokenization
 * however long it is: a 5 MB document costs what a normal one does. Only text averaging more than 128 characters
 * per token (e.g. a long blob without spaces) is read no further than that.
 */
export function headTokens(tokenizer: CrossEncoderTokenizer, text: string, budget: number): number[] {
  let limit = budget * CHARS_PER_TOKEN_BOUND;
  let ids: number[] = [];
  for (let step = 0; step <= HEAD_GROWTH_STEPS; step++, limit *= 4) {
    if (text.length <= limit) break;
    ids = encodeText(tokenizer, text.slice(0, cutPoint(text, limit)));
    if (ids.length >= budget || step === HEAD_GROWTH_STEPS) return ids.slice(0, budget);
  }
  return encodeText(tokenizer, text).slice(0, budget);
}

/** Tokens a cache entry holds at least: BERT-family rerankers read at most 512. */
const CACHE_MIN_TOKENS = 512;

/**
 * Token ids of documents, shared by every reranker that runs inside {@link withTokenCache} with an equal-vocabulary
 * tokenizer: the stages of a cascade tokenize each candidate once. Entries live as long as the cache (one rerank
 * call), so memory is bounded by that call's candidates.
 */
export class TokenCache {
  private readonly byVocabulary = new Map<string, Map<string, { ids: number[]; complete: boolean }>>();
  /** Texts tokenized through this cache, and lookups it answered. */
  misses = 0;
  hits = 0;

  /**
   * At least the first `limit` ids of `text` (all of them when it has fewer; see {@link headTokens}); the same array
   * for every caller, so treat it as read-only. A later call that needs more tokens than an entry holds reads more.
   */
  tokens(tokenizer: CrossEncoderTokenizer, text: string, limit: number): readonly number[] {
    const key = tokenizerFingerprint(tokenizer);
    let texts = this.byVocabulary.get(key);
    if (!texts) {
      texts = new Map();
      this.byVocabulary.set(key, texts);
    }
    const entry = texts.get(text);
    if (entry && (entry.complete || entry.ids.length >= limit)) {
      this.hits += 1;
      return entry.ids;
    }
    // Read at least a full 512-token window, so a later stage with a longer maxLength reuses the entry.
    const read = Math.max(limit, CACHE_MIN_TOKENS);
    const ids = headTokens(tokenizer, text, read);
    texts.set(text, { ids, complete: ids.length < read });
    this.misses += 1;
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
export function documentTokens(tokenizer: CrossEncoderTokenizer, text: string, limit: number): readonly number[] {
  const cache = scope.getStore();
  return cache ? cache.tokens(tokenizer, text, limit) : headTokens(tokenizer, text, limit);
}
