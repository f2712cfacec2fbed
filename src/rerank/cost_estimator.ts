/**
 * A running estimate of what a reranker costs on this machine, in milliseconds per padded token (tokenization,
 * batching and the model together), learnt from the calls it has made: an exponentially weighted mean, so it follows
 * a machine that gets busier or quieter.
 */
export class CostEstimator {
  /** Milliseconds per padded token; undefined until the first observation. */
  msPerToken?: number;
  /** Padded tokens per scored pair (so a number of candidates can be priced before they are tokenized). */
  tokensPerPair?: number;
  /** Observations so far. */
  observations = 0;

  /**
   * @param weight Weight of the newest observation in the running mean.
   */
  constructor(readonly weight = 0.3) {}

  /** Records that `pairs` pairs of `tokens` padded tokens took `ms`. */
  observe(tokens: number, ms: number, pairs: number): void {
    if (!(tokens > 0) || !(ms >= 0) || !(pairs > 0)) return;
    this.msPerToken = this.mix(this.msPerToken, ms / tokens);
    this.tokensPerPair = this.mix(this.tokensPerPair, tokens / pairs);
    this.observations += 1;
  }

  private mix(current: number | undefined, value: number): number {
    return current === undefined ? value : current + this.weight * (value - current);
  }

  /** Predicted milliseconds for `tokens` padded tokens; undefined before any observation. */
  predict(tokens: number): number | undefined {
    return this.msPerToken === undefined ? undefined : tokens * this.msPerToken;
  }

  /** Predicted milliseconds for `pairs` pairs of the usual length; undefined before any observation. */
  predictPairs(pairs: number): number | undefined {
    return this.tokensPerPair === undefined ? undefined : this.predict(pairs * this.tokensPerPair);
  }
}

const estimators = new WeakMap<object, CostEstimator>();

/** The estimator of one reranker instance (shared by every cascade that uses it). */
export function costEstimatorOf(reranker: object): CostEstimator {
  let estimator = estimators.get(reranker);
  if (!estimator) {
    estimator = new CostEstimator();
    estimators.set(reranker, estimator);
  }
  return estimator;
}
