export { TwoStageError, InvalidArgumentError, ModelLoadError, IndexError } from "./errors.js";
export type { TwoStageErrorOptions } from "./errors.js";
export { loadFaiss } from "./recall/faiss_native.js";
export type { FaissModule } from "./recall/faiss_native.js";
export { CrossEncoderCompressor } from "./rerank/cross_encoder_compressor.js";
export type {
  CrossEncoderCompressorParams,
  KnownCrossEncoderId,
  RerankResult,
  RerankStats,
} from "./rerank/cross_encoder_compressor.js";
export type {
  CrossEncoderActivation,
  CrossEncoderSequenceModel,
  CrossEncoderTokenizer,
} from "./rerank/cross_encoder_model.js";
export type { PaddedBatch } from "./rerank/pair_batcher.js";
export { resolveModelSource } from "./models/model_source.js";
export type { ModelSource, ModelSourceParams } from "./models/model_source.js";
export { TwoStageRetriever } from "./two_stage_retriever.js";
export type { TwoStageRetrieverParams, TwoStageRetrieverFactoryParams, StageTimings } from "./two_stage_retriever.js";
export { FaissVectorStore } from "./recall/faiss_vector_store.js";
export type { FaissFilter, FaissVectorStoreParams } from "./recall/faiss_vector_store.js";
export { Bm25Index } from "./recall/bm25/bm25_index.js";
export type { Bm25IndexParams } from "./recall/bm25/bm25_index.js";
export { EnglishAnalyzer, ENGLISH_STOP_WORDS } from "./recall/bm25/english_analyzer.js";
export type { EnglishAnalyzerParams, TextAnalyzer } from "./recall/bm25/english_analyzer.js";
export { standardTokenize } from "./recall/bm25/standard_tokenizer.js";
export { HybridSource } from "./recall/hybrid_source.js";
export type { HybridSourceEntry, HybridSourceParams } from "./recall/hybrid_source.js";
export { TransformersEmbeddings } from "./recall/transformers_embeddings.js";
export type { KnownEmbeddingId, TransformersEmbeddingsParams } from "./recall/transformers_embeddings.js";
export { readFlatIndex, writeFlatIndex } from "./recall/flat_index_file.js";
export type { Explanation, ExplainedCandidate } from "./two_stage_retriever.js";
export { loadBeirDataset, readJsonl, documentText } from "./eval/beir_dataset.js";
export type { BeirDataset, BeirDocument, BeirQuery } from "./eval/beir_dataset.js";
export { evaluate } from "./eval/evaluate.js";
export type { EvaluateParams, EvaluationReport, RecallKResult, RunEntry } from "./eval/evaluate.js";
export { ndcgAt, recallAt, precisionAt, mrrAt, averagePrecisionAt, mean, quantile } from "./eval/metrics.js";
export { formatTrecRun, writeTrecRun } from "./eval/trec_run.js";
