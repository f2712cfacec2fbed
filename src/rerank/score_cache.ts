/**
 * Where a reranker keeps the scores it computed, keyed by the reranker's settings, the model file, the query and the
 * document text (see `CrossEncoderCompressorParams.scoreCache`). The in-memory LRU (`cacheSize`) is one; a
 * {@link ScoreCacheFile} keeps them between runs.
 */
export interface ScoreCache {
  get(key: string): number | undefined;
  set(key: string, score: number): void;
}
