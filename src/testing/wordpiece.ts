/** The special tokens of a BERT-uncased vocabulary, in id order. */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The special tokens of an XLM-RoBERTa vocabulary, in id order (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3). */
export const ROBERTA_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] as const;

const PUNCTUATION = "\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E";
const PRE_TOKEN = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, "gu");
const CJK =
  /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/gu;
const MAX_CHARS_PER_WORD = 100;

/**
 * BERT-uncased normalisation: drop control characters, map whitespace to spaces, space out CJK characters,
 * lowercase and strip accents (the `BertNormalizer` of tokenizers / transformers.js).
 */
export function bertNormalize(text: string): string {
  return (
    text
      .replace(/\s/gu, " ")
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000\ufffd\p{Cc}\p{Cf}]/gu, "")
      .replace(CJK, (ch) => ` ${ch} `)
      .toLowerCase()
      .normalize("NFD")
      .replace(/\p{Mn}/gu, "")
  );
}

/** BERT pre-tokenisation: runs of non-space, non-punctuation characters; each punctuation mark on its own. */
export function bertPreTokenize(normalized: string): string[] {
  return normalized.match(PRE_TOKEN) ?? [];
}

const corpusWordsCache = new WeakMap<readonly string[], string[][]>();

/**
 * The normalised, pre-tokenised words of every text of `corpus`, computed once per corpus array (builders that
 * derive a vocabulary and then IDF weights from the same corpus share the work).
 */
export function corpusWords(corpus: readonly string[]): string[][] {
  let words = corpusWordsCache.get(corpus);
  if (!words) {
    words = corpus.map((text) => bertPreTokenize(bertNormalize(text)));
    corpusWordsCache.set(corpus, words);
  }
  return words;
}

/**
 * A WordPiece tokenizer over a fixed vocabulary, in plain TypeScript. It reproduces what transformers.js does with
 * the `tokenizer.json` that {@link buildTokenizer} writes, so builders can compute statistics (document frequency,
 * IDF) over exactly the tokens the model will see.
 */
export class WordPieceTokenizer {
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly memo = new Map<string, string[]>();
  private readonly unkId: number;

  /** `unkToken` is the vocabulary entry unknown words map to (`<unk>` in RoBERTa-style vocabularies). */
  constructor(
    vocab: readonly string[],
    private readonly unkToken = "[UNK]",
  ) {
    this.vocab = vocab;
    this.ids = new Map(vocab.map((token, id) => [token, id]));
    this.unkId = this.ids.get(unkToken) ?? 1;
  }

  /** Number of tokens in the vocabulary. */
  get size(): number {
    return this.vocab.length;
  }

  /** The id of `token`, or undefined. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** Word pieces of `text` (no special tokens). */
  tokenize(text: string): string[] {
    const pieces: string[] = [];
    for (const word of bertPreTokenize(bertNormalize(text))) pieces.push(...this.wordPieces(word));
    return pieces;
  }

  /** Token ids of already pre-tokenised words. */
  encodeWords(words: readonly string[]): number[] {
    const out: number[] = [];
    for (const word of words) for (const piece of this.wordPieces(word)) out.push(this.ids.get(piece) ?? this.unkId);
    return out;
  }

  /** Token ids of `text` (no special tokens). */
  encode(text: string): number[] {
    return this.tokenize(text).map((piece) => this.ids.get(piece) ?? this.unkId);
  }

  private wordPieces(word: string): string[] {
    let pieces = this.memo.get(word);
    if (pieces === undefined) {
      pieces = this.splitWord(word);
      if (this.memo.size < 200_000) this.memo.set(word, pieces);
    }
    return pieces;
  }

  private splitWord(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > MAX_CHARS_PER_WORD) return [this.unkToken];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const candidate = (start > 0 ? "##" : "") + chars.slice(start, end).join("");
        if (this.ids.has(candidate)) {
          found = candidate;
          break;
        }
        end -= 1;
      }
      if (found === undefined) return [this.unkToken];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}
