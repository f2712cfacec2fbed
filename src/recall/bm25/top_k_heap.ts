/**
 * The best `capacity` (document number, score) pairs offered, by score descending and then document number ascending
 * (a tie goes to the earlier document): a min-heap in two typed arrays whose root is the worst pair kept. Used by
 * {@link Bm25Index} to select the top k of a query without sorting every touched document.
 */
export class TopKHeap {
  private readonly docs: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(readonly capacity: number) {
    this.docs = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  /** Whether `capacity` pairs are kept (from then on a pair enters only by beating the worst one). */
  get full(): boolean {
    return this.size === this.capacity;
  }

  /** The score of the worst pair kept (meaningful once the heap holds a pair). */
  get worstScore(): number {
    return this.scores[0];
  }

  /** Whether (d, score) would enter: the heap is not full, or the pair beats the worst kept one. */
  admits(d: number, score: number): boolean {
    if (this.size < this.capacity) return true;
    const worst = this.scores[0];
    return score > worst || (score === worst && d < this.docs[0]);
  }

  /** Adds (d, score), which must be {@link admits admitted}; when full, the worst pair leaves. */
  push(d: number, score: number): void {
    const docs = this.docs;
    const scores = this.scores;
    if (this.size < this.capacity) {
      // sift up from the new leaf: move each parent that is better than the new pair down into the hole
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const ps = scores[parent];
        if (ps < score || (ps === score && docs[parent] > d)) break; // the parent is worse: the hole stays here
        docs[i] = docs[parent];
        scores[i] = ps;
        i = parent;
      }
      docs[i] = d;
      scores[i] = score;
      return;
    }
    this.siftDown(d, score, this.size);
  }

  /** Puts (d, score) at the root's place and sifts it down within the first `size` slots. */
  private siftDown(d: number, score: number, size: number): void {
    const docs = this.docs;
    const scores = this.scores;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      let cs = scores[c];
      if (c + 1 < size) {
        const rs = scores[c + 1];
        if (rs < cs || (rs === cs && docs[c + 1] > docs[c])) {
          c += 1;
          cs = rs;
        }
      }
      if (!(cs < score || (cs === score && docs[c] > d))) break; // the worse child is not worse than the pair
      docs[i] = docs[c];
      scores[i] = cs;
      i = c;
    }
    docs[i] = d;
    scores[i] = score;
  }

  /** The pairs kept, best first; empties the heap. */
  drain(): { docs: Int32Array; scores: Float64Array } {
    const n = this.size;
    const outDocs = new Int32Array(n);
    const outScores = new Float64Array(n);
    for (let end = n - 1; end >= 0; end--) {
      outDocs[end] = this.docs[0];
      outScores[end] = this.scores[0];
      this.siftDown(this.docs[end], this.scores[end], end); // the last pair takes the root's place
    }
    this.size = 0;
    return { docs: outDocs, scores: outScores };
  }
}
