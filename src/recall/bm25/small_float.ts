/**
 * Lucene's one-byte document lengths (`SmallFloat.intToByte4` / `byte4ToInt`, used by `BM25Similarity` norms):
 * lengths below 24 are exact, longer ones keep 4 significant bits (up to 1/8 off). Offered so BM25 scores can match
 * Lucene's exactly; see {@link Bm25IndexParams.luceneLengthQuantization}.
 */

const NUM_FREE_VALUES = 24; // 255 - longToInt4(Integer.MAX_VALUE)

function longToInt4(i: number): number {
  const numBits = 32 - Math.clz32(i);
  if (numBits < 4) return i;
  const shift = numBits - 4;
  return ((i >>> shift) & 0x07) | ((shift + 1) << 3);
}

function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

/** The byte Lucene stores for a document of `length` tokens (0..255). */
export function lengthToByte(length: number): number {
  return length < NUM_FREE_VALUES ? length : NUM_FREE_VALUES + longToInt4(length - NUM_FREE_VALUES);
}

/** The length Lucene scores with for a stored byte. */
export function byteToLength(byte: number): number {
  return byte < NUM_FREE_VALUES ? byte : Math.min(NUM_FREE_VALUES + int4ToLong(byte - NUM_FREE_VALUES), 2 ** 31 - 1);
}

/** `length` as Lucene scores it: encoded to a byte and decoded. */
export function quantizedLength(length: number): number {
  return byteToLength(lengthToByte(length));
}
