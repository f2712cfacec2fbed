/**
 * Word splitting after Unicode's word-boundary rules (UAX #29), as Lucene's `StandardTokenizer` does it: letters and
 * digits run together ("covid19", "β2"), a letter–apostrophe/period/colon–letter sequence stays one word ("don't",
 * "u.s.a", "John's"), a digit–comma/period–digit sequence stays one number ("1,000", "3.14"), the underscore joins
 * words, combining marks stay with their letter, each Han ideograph and Hiragana character is a word of its own,
 * Thai/Lao/Khmer/Myanmar runs are one word each, emoji are words, and everything else (spaces, hyphens, slashes,
 * brackets, other punctuation and symbols) separates words. Words longer than `maxTokenLength` UTF-16 units are cut
 * into pieces of that length, as Lucene does.
 *
 * It is a close approximation, not a port of Lucene's generated scanner (Hebrew-letter quote rules and some emoji
 * sequences are simplified). Checked against Lucene 8.7's `EnglishAnalyzer`: the same terms for every document and
 * query of BEIR SciFact, Cranfield, CISI and ADI, and for the multilingual cases in `__tests__/bm25.test.ts`.
 */

const OTHER = 0;
const LETTER = 1;
const NUMERIC = 2;
const KATAKANA = 3;
const IDEOGRAPHIC = 4; // Han and Hiragana: one character per word
const SOUTHEAST_ASIAN = 5;
const EXTEND = 6; // combining marks, format characters, ZWJ: stay with the preceding character
const EXTEND_NUM_LET = 7; // connector punctuation: "_"
const MID_LETTER = 8;
const MID_NUM_LET = 9;
const SINGLE_QUOTE = 10;
const MID_NUM = 11;
const EMOJI = 12;
const REGIONAL_INDICATOR = 14; // flags are pairs of these

const MID_LETTER_CHARS = new Set([0x3a, 0xb7, 0x387, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MID_NUM_LET_CHARS = new Set([0x2e, 0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);
const MID_NUM_CHARS = new Set([
  0x2c, 0x3b, 0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b,
]);

const RE_KATAKANA = /[\p{Script=Katakana}\u3031-\u3035\u309b\u309c\u30a0\u30fc\uff70]/u;
const RE_IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}]/u;
const RE_SOUTHEAST_ASIAN = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Khmer}\p{Script=Tai_Tham}]/u;
const RE_EXTEND = /[\p{M}\p{Cf}\p{Emoji_Modifier}]/u;
const RE_LETTER = /[\p{L}\p{Nl}]/u;
const RE_NUMERIC = /\p{Nd}/u;
const RE_CONNECTOR = /\p{Pc}/u;
const RE_EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Presentation}]/u;

function classifySlow(cp: number): number {
  if (MID_LETTER_CHARS.has(cp)) return MID_LETTER;
  if (MID_NUM_LET_CHARS.has(cp)) return MID_NUM_LET;
  if (MID_NUM_CHARS.has(cp)) return MID_NUM;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return REGIONAL_INDICATOR;
  if (cp === 0x200b) return OTHER; // zero-width space separates words (UAX #29 leaves it out of Format)
  const ch = String.fromCodePoint(cp);
  if (cp >= 128 && RE_EMOJI.test(ch) && !RE_EXTEND.test(ch)) return EMOJI; // © ® ™ ↔ … are words, as in Lucene
  if (RE_EXTEND.test(ch)) return EXTEND;
  if (RE_KATAKANA.test(ch)) return KATAKANA;
  if (RE_IDEOGRAPHIC.test(ch)) return IDEOGRAPHIC;
  if (RE_SOUTHEAST_ASIAN.test(ch)) return SOUTHEAST_ASIAN;
  if (RE_LETTER.test(ch)) return LETTER;
  if (RE_NUMERIC.test(ch)) return NUMERIC;
  if (RE_CONNECTOR.test(ch)) return EXTEND_NUM_LET;
  return OTHER;
}

const CONTINUATION = 13; // the low half of a surrogate pair
const UNKNOWN = 255;
const ASCII = new Uint8Array(128).map((_, cp) => (cp === 0x27 ? SINGLE_QUOTE : classifySlow(cp)));
const BMP = new Uint8Array(0x10000).fill(UNKNOWN); // filled lazily
const ASTRAL = new Map<number, number>();

/** Word-break class of every UTF-16 unit of `text` (into a reused buffer). */
let classBuffer = new Uint8Array(4096);
function classesOf(text: string): Uint8Array {
  const n = text.length;
  if (classBuffer.length < n) classBuffer = new Uint8Array(Math.max(n, classBuffer.length * 2));
  const cls = classBuffer;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      cls[i] = ASCII[c];
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = text.codePointAt(i) as number;
      let k = ASTRAL.get(cp);
      if (k === undefined) {
        k = classifySlow(cp);
        if (ASTRAL.size < 65_536) ASTRAL.set(cp, k);
      }
      cls[i] = k;
      cls[++i] = CONTINUATION;
    } else {
      let k = BMP[c];
      if (k === UNKNOWN) k = BMP[c] = classifySlow(c);
      cls[i] = k;
    }
  }
  return cls;
}

/** Whether `next` continues a word whose last letter/digit class is `last` (no separator between them). */
function joins(last: number, next: number): boolean {
  switch (next) {
    case LETTER:
    case NUMERIC:
      return last === LETTER || last === NUMERIC || last === EXTEND_NUM_LET;
    case KATAKANA:
      return last === KATAKANA || last === EXTEND_NUM_LET;
    case EXTEND_NUM_LET:
      return last === LETTER || last === NUMERIC || last === KATAKANA || last === EXTEND_NUM_LET;
    default:
      return false;
  }
}

/** Whether `mid` between `last` and `next` keeps them in one word ("don't", "u.s", "3.14", "1,000"). */
function bridges(last: number, mid: number, next: number): boolean {
  if (last === LETTER && next === LETTER) return mid === MID_LETTER || mid === MID_NUM_LET || mid === SINGLE_QUOTE;
  if (last === NUMERIC && next === NUMERIC) return mid === MID_NUM || mid === MID_NUM_LET || mid === SINGLE_QUOTE;
  return false;
}

/** Default longest word, in UTF-16 units (Lucene's `StandardTokenizer` default). */
export const DEFAULT_MAX_TOKEN_LENGTH = 255;

/**
 * Splits `text` into words by Unicode word boundaries (see the module comment), in text order, case kept.
 *
 * @example
 * ```ts
 * standardTokenize("The U.S. cost 1,000.50 $ — don't (IL-6)!");
 * // ["The", "U.S", "cost", "1,000.50", "don't", "IL", "6"]
 * ```
 */
export function standardTokenize(text: string, maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH): string[] {
  const tokens: string[] = [];
  const n = text.length;
  const cls = classesOf(text);
  const emit = (start: number, end: number): void => {
    if (end - start <= maxTokenLength) tokens.push(text.slice(start, end));
    else
      for (let s = start; s < end; s += maxTokenLength) tokens.push(text.slice(s, Math.min(end, s + maxTokenLength)));
  };
  let i = 0;
  while (i < n) {
    const c = cls[i];
    const start = i++;
    if (c === LETTER || c === NUMERIC || c === KATAKANA || c === EXTEND_NUM_LET) {
      let last = c;
      let wordy = c !== EXTEND_NUM_LET;
      for (;;) {
        while (i < n && (cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
        if (i >= n) break;
        const next = cls[i];
        if (joins(last, next)) {
          last = next;
          if (next !== EXTEND_NUM_LET) wordy = true;
          i++;
          continue;
        }
        if (next === MID_LETTER || next === MID_NUM_LET || next === SINGLE_QUOTE || next === MID_NUM) {
          let after = i + 1;
          while (after < n && (cls[after] === EXTEND || cls[after] === CONTINUATION)) after++;
          if (after < n && bridges(last, next, cls[after])) {
            last = cls[after];
            i = after + 1;
            continue;
          }
        }
        break;
      }
      if (wordy) emit(start, i);
    } else if (c === IDEOGRAPHIC) {
      while (i < n && (cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
      emit(start, i);
    } else if (c === SOUTHEAST_ASIAN) {
      while (i < n && (cls[i] === SOUTHEAST_ASIAN || cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
      emit(start, i);
    } else if (c === REGIONAL_INDICATOR) {
      while (i < n && (cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
      if (i < n && cls[i] === REGIONAL_INDICATOR) {
        i++;
        while (i < n && (cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
      }
      emit(start, i);
    } else if (c === EMOJI) {
      // an emoji with its modifiers, and ZWJ sequences of emoji
      for (;;) {
        while (i < n && (cls[i] === EXTEND || cls[i] === CONTINUATION)) i++;
        if (i >= n || text.charCodeAt(i - 1) !== 0x200d || cls[i] !== EMOJI) break;
        i++;
      }
      emit(start, i);
    }
  }
  return tokens;
}
