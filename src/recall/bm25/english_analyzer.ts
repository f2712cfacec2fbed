import porterStemmer from "@stdlib/nlp-porter-stemmer";

import { InvalidArgumentError } from "../../errors.js";
import { positiveInteger } from "../../validation.js";
import { DEFAULT_MAX_TOKEN_LENGTH, standardTokenize } from "./standard_tokenizer.js";

/** Turns text into index terms. The same analyzer must serve documents and queries. */
export interface TextAnalyzer {
  /** A stable name saved with an index, so a load can check that queries are analyzed as the documents were. */
  readonly name: string;
  /** The terms of `text`, in text order, repeats kept (they are term frequencies). */
  analyze(text: string): string[];
}

/**
 * Lucene's English stop words (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, 33 words), the set Anserini's BM25
 * baselines use.
 */
export const ENGLISH_STOP_WORDS: readonly string[] = Object.freeze([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "but",
  "by",
  "for",
  "if",
  "in",
  "into",
  "is",
  "it",
  "no",
  "not",
  "of",
  "on",
  "or",
  "such",
  "that",
  "the",
  "their",
  "then",
  "there",
  "these",
  "they",
  "this",
  "to",
  "was",
  "will",
  "with",
]);

/** Options of {@link EnglishAnalyzer}. */
export interface EnglishAnalyzerParams {
  /**
   * Words dropped after lowercasing (compared before stemming).
   * @default ENGLISH_STOP_WORDS (Lucene's 33 English stop words)
   */
  stopWords?: Iterable<string>;
  /**
   * Porter-stem each word (Martin Porter's algorithm, as Lucene's `PorterStemFilter`).
   * @default true
   */
  stem?: boolean;
  /**
   * Longest word in UTF-16 units; longer words are cut into pieces of this length (as Lucene's tokenizer does).
   * @default 255
   */
  maxTokenLength?: number;
}

const APOSTROPHES = new Set([0x27, 0x2019, 0xff07]);
const TERM_CACHE_LIMIT = 200_000;

/** Lowercases one code point at a time, as Java's `Character.toLowerCase` (no final-sigma or locale rules). */
function lowerCase(token: string): string {
  let ascii = true;
  for (let i = 0; i < token.length; i++) {
    if (token.charCodeAt(i) > 127) {
      ascii = false;
      break;
    }
  }
  if (ascii) return token.toLowerCase();
  let out = "";
  for (const ch of token) {
    const lower = ch.toLowerCase();
    out += lower.length === ch.length ? lower : String.fromCodePoint(lower.codePointAt(0) as number);
  }
  return out;
}

/**
 * An English analyzer close to Lucene's `EnglishAnalyzer` (the analyzer of Anserini's BM25 baselines): Unicode word
 * splitting ({@link standardTokenize}), possessive `'s` removal, lowercasing, Lucene's English stop words, and the
 * Porter stemmer (from `@stdlib/nlp-porter-stemmer`; words of one or two letters are left as they are).
 *
 * @example
 * ```ts
 * new EnglishAnalyzer().analyze("The Runner's shoes were running faster");
 * // ["runner", "shoe", "were", "run", "faster"]
 * ```
 */
export class EnglishAnalyzer implements TextAnalyzer {
  readonly stopWords: ReadonlySet<string>;

  readonly stem: boolean = true;

  readonly maxTokenLength: number = DEFAULT_MAX_TOKEN_LENGTH;

  /** "english" with the default options; options that change terms show in the name, so a load can check them. */
  readonly name: string;

  /** word as written → term (null: dropped), bounded by TERM_CACHE_LIMIT */
  private readonly terms = new Map<string, string | null>();

  constructor(params: EnglishAnalyzerParams = {}) {
    this.stopWords = new Set(params.stopWords ?? ENGLISH_STOP_WORDS);
    this.stem = params.stem ?? this.stem;
    this.maxTokenLength = params.maxTokenLength ?? this.maxTokenLength;
    positiveInteger("maxTokenLength", this.maxTokenLength);
    for (const word of this.stopWords) {
      if (typeof word !== "string") {
        throw new InvalidArgumentError(`stopWords must hold strings; got ${typeof word}. Pass lowercase words.`);
      }
    }
    const defaultStops =
      this.stopWords.size === ENGLISH_STOP_WORDS.length && ENGLISH_STOP_WORDS.every((w) => this.stopWords.has(w));
    const variants = [
      defaultStops ? "" : `stop=${[...this.stopWords].sort().join(",")}`,
      this.stem ? "" : "nostem",
      this.maxTokenLength === DEFAULT_MAX_TOKEN_LENGTH ? "" : `max=${this.maxTokenLength}`,
    ].filter(Boolean);
    this.name = variants.length === 0 ? "english" : `english(${variants.join(";")})`;
  }

  analyze(text: string): string[] {
    const out: string[] = [];
    for (const token of standardTokenize(text, this.maxTokenLength)) {
      let term = this.terms.get(token);
      if (term === undefined) {
        term = this.termOf(token);
        if (this.terms.size >= TERM_CACHE_LIMIT) this.terms.clear();
        this.terms.set(token, term);
      }
      if (term !== null) out.push(term);
    }
    return out;
  }

  /** The term of one word: possessive removed, lowercased, stemmed; null for a stop word. */
  private termOf(token: string): string | null {
    const len = token.length;
    if (
      len >= 2 &&
      APOSTROPHES.has(token.charCodeAt(len - 2)) &&
      (token.charCodeAt(len - 1) === 0x73 || token.charCodeAt(len - 1) === 0x53)
    ) {
      token = token.slice(0, len - 2);
    }
    token = lowerCase(token);
    if (token === "" || this.stopWords.has(token)) return null;
    if (!this.stem) return token;
    // The JavaScript Porter port turns the word "eed" itself into "e"; Porter's reference (and Lucene) keep "eed".
    return token === "eed" ? token : porterStemmer(token);
  }
}
