import type { PairTemplate } from "../models/types.js";

export type { PairTemplate } from "../models/types.js";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One encoded (query, passage) pair, ready for the model. */
export interface EncodedPair {
  /** Which scored text this pair belongs to (several pairs per text with `maxPassage`). */
  owner: number;
  ids: number[];
  /** Index where segment B (the document, token type 1) starts. */
  segmentB: number;
}

/** Builds `template(query, doc)` with the query kept whole and the document cut to fit `maxLength`. */
export function encodePair(
  template: PairTemplate,
  query: readonly number[],
  doc: readonly number[],
  owner: number,
): EncodedPair {
  const head = [...template.prefix, ...query, ...template.middle];
  return { owner, ids: [...head, ...doc, ...template.suffix], segmentB: head.length };
}

/** Tokens left for the document once the query and the special tokens are placed. */
export function documentBudget(template: PairTemplate, queryLength: number, maxLength: number): number {
  return maxLength - queryLength - template.prefix.length - template.middle.length - template.suffix.length;
}

/**
 * Overlapping windows over a document's tokens: `size` tokens each, starting every `size - overlap` tokens, the
 * last one ending at the document's end. One window (the whole document) when it fits.
 */
export function passageWindows(doc: readonly number[], size: number, overlap: number): number[][] {
  if (doc.length <= size) return [[...doc]];
  const stride = Math.max(1, size - overlap);
  const windows: number[][] = [];
  for (let start = 0; ; start += stride) {
    if (start + size >= doc.length) {
      windows.push(doc.slice(Math.max(0, doc.length - size)));
      break;
    }
    windows.push(doc.slice(start, start + size));
  }
  return windows;
}

/** A batch of pairs padded to its longest member, as flat row-major arrays. */
export interface PaddedBatch {
  pairs: EncodedPair[];
  rows: number;
  columns: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

/**
 * Groups pairs into batches of similar length (sorted by token count, so padding is small) with at most
 * `batchSize` rows and at most `maxBatchTokens` padded tokens each (rows × longest row). That product bounds a
 * batch's activation memory; a single pair longer than the bound still gets a batch of its own.
 */
export function lengthBucketedBatches(
  pairs: EncodedPair[],
  batchSize: number,
  maxBatchTokens: number,
): EncodedPair[][] {
  const sorted = [...pairs].sort((a, b) => a.ids.length - b.ids.length);
  const batches: EncodedPair[][] = [];
  let current: EncodedPair[] = [];
  for (const pair of sorted) {
    // Sorted ascending, so this pair is the longest of the batch if it joins.
    const wouldBe = (current.length + 1) * pair.ids.length;
    if (current.length > 0 && (current.length >= batchSize || wouldBe > maxBatchTokens)) {
      batches.push(current);
      current = [];
    }
    current.push(pair);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Pads a batch to its longest pair (or to `width`, if wider). Token type 1 from the document onward (special
 * tokens included).
 */
export function padBatch(pairs: EncodedPair[], pad: number, width = 0): PaddedBatch {
  const rows = pairs.length;
  const columns = Math.max(width, ...pairs.map((p) => p.ids.length));
  const inputIds = new BigInt64Array(rows * columns);
  const attentionMask = new BigInt64Array(rows * columns);
  const tokenTypeIds = new BigInt64Array(rows * columns);
  // Write int64s through 32-bit little-endian views (low word = value, high word = 0): no BigInt per token, which
  // would cost more than the tokenization itself. Token ids are small non-negative integers.
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  const types32 = new Int32Array(tokenTypeIds.buffer);
  if (!LITTLE_ENDIAN) {
    pairs.forEach((pair, row) => {
      for (let i = 0; i < columns; i++) {
        inputIds[row * columns + i] = BigInt(i < pair.ids.length ? pair.ids[i] : pad);
        attentionMask[row * columns + i] = i < pair.ids.length ? 1n : 0n;
        tokenTypeIds[row * columns + i] = i < pair.ids.length && i >= pair.segmentB ? 1n : 0n;
      }
    });
    return { pairs, rows, columns, inputIds, attentionMask, tokenTypeIds };
  }
  pairs.forEach((pair, row) => {
    const offset = row * columns;
    for (let i = 0; i < columns; i++) {
      const at = 2 * (offset + i);
      if (i < pair.ids.length) {
        ids32[at] = pair.ids[i];
        mask32[at] = 1;
        if (i >= pair.segmentB) types32[at] = 1;
      } else {
        ids32[at] = pad;
      }
    }
  });
  return { pairs, rows, columns, inputIds, attentionMask, tokenTypeIds };
}
