// The public API of two-stage-retriever. Internals stay importable by the tests by path, not from here.

// Errors
export {
  TwoStageError,
  InvalidArgumentError,
  ModelLoadError,
  IndexError,
  DisposedError,
  RemoteServiceError,
} from "./errors.js";
export type { TwoStageErrorOptions, InvalidArgumentErrorOptions, RemoteServiceErrorOptions } from "./errors.js";

// The retriever
export { TwoStageRetriever } from "./two_stage_retriever.js";
export type { SavedRetrieverSettings, SavedReranker } from "./retriever_settings.js";
export type {
  TwoStageRetrieverParams,
  TwoStageRetrieverFactoryParams,
  StageTimings,
  Explanation,
  ExplainedCandidate,
  TwoStageRetrieverCallOptions,
} from "./two_stage_retriever.js";
export type { TwoStageConfigurable } from "./retrieval_options.js";
export type { RankingTrace, TracedRank, TracedDrop } from "./rerank/ranking_trace.js";
export { explanationToHTML } from "./explanation_html.js";
export type { ExplanationHtmlParams, ExplanationView, WithHtml } from "./explanation_html.js";

// Stage 1
export type { RecallSource, RecallCandidate, RecallFilter } from "./recall/recall_source.js";
export { toRecallSource } from "./recall/to_recall_source.js";
export type { Stage1 } from "./recall/to_recall_source.js";
export { VectorStoreSource, STORE_CONVENTIONS, storeConvention } from "./recall/vector_store_source.js";
export type {
  VectorStoreSourceParams,
  StoreConvention,
  StoreConventionEntry,
  StoreScore,
  StoreFilter,
} from "./recall/vector_store_source.js";
export { RetrieverSource } from "./recall/retriever_source.js";
export type { RetrieverSourceParams } from "./recall/retriever_source.js";
export { FaissVectorStore } from "./recall/faiss/faiss_vector_store.js";
export type { FaissFilter, FaissVectorStoreParams } from "./recall/faiss/faiss_vector_store.js";
export { loadFaiss } from "./recall/faiss/faiss_native.js";
export type { FaissModule } from "./recall/faiss/faiss_native.js";
export { TransformersEmbeddings } from "./models/transformers_embeddings.js";
export type { KnownEmbeddingId, TransformersEmbeddingsParams } from "./models/transformers_embeddings.js";

// Stage 2
export { CrossEncoderCompressor } from "./rerank/cross_encoder_compressor.js";
export type { ScoreCache } from "./rerank/score_cache.js";
export { ScoreCacheFile } from "./rerank/score_cache_file.js";
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
} from "./models/cross_encoder_model.js";
export type { CandidateRanking, DroppedReason, StageRanking, StageResult } from "./rerank/candidate_ranking.js";
export { CascadeCompressor, DEFAULT_CASCADE_KEEP } from "./rerank/cascade_compressor.js";
export type {
  CascadeCompressorParams,
  CascadeRankOptions,
  CascadeScoreMemo,
  CascadeStage,
  SavedCascadeStage,
} from "./rerank/cascade_compressor.js";
export { ScoringCompressor } from "./rerank/scoring_compressor.js";
export { isStageReranker } from "./rerank/relevance_scorer.js";
export type { RelevanceScorer, StageReranker, ScoreOptions, ScoringCost } from "./rerank/relevance_scorer.js";
export { RemoteReranker } from "./rerank/remote/remote_reranker.js";
export { API_KEY_ENV, REMOTE_RERANK_APIS } from "./rerank/remote/remote_reranker_params.js";
export type {
  RemoteRerankApi,
  RemoteRerankerParams,
  SavedRemoteRerankerParams,
} from "./rerank/remote/remote_reranker_params.js";
export type { TeiRerankRequest, TeiRank, TeiInfo } from "./rerank/remote/tei_api.js";
export type {
  CohereV1RerankRequest,
  CohereV2RerankRequest,
  CohereRerankResponse,
  CohereRerankResult,
} from "./rerank/remote/cohere_api.js";
export { TokenCache, withTokenCache } from "./rerank/token_cache.js";
export { CostEstimator } from "./rerank/cost_estimator.js";
export type { ModelSourceParams } from "./models/model_source.js";
export type { ModelDownloadProgress, ProgressEvent } from "./models/types.js";
export { PROGRESS_EVENT } from "./models/progress.js";
export {
  TRANSFORMERS_RUNTIMES,
  TRANSFORMERS_RUNTIME_ENV,
  type TransformersRuntimeChoice,
  type TransformersRuntimeName,
} from "./models/transformers_runtime.js";

// Models on disk: the default model directory and importing artifacts into it
export { defaultModelDirectory, MODEL_DIRECTORY_ENV } from "./models/model_directory.js";
export { importModel, DEFAULT_MAX_UNCOMPRESSED_BYTES } from "./models/model_import.js";
export type { ImportModelParams, ImportedModel } from "./models/model_import.js";
export type { OnnxModelFacts, OnnxModelHead } from "./models/onnx_model_facts.js";

// Stage 1 without a model
export { Bm25Index } from "./recall/bm25/bm25_index.js";
export type { Bm25IndexParams } from "./recall/bm25/bm25_index.js";
export { EnglishAnalyzer, ENGLISH_STOP_WORDS } from "./recall/bm25/english_analyzer.js";
export type { EnglishAnalyzerParams, TextAnalyzer } from "./recall/bm25/english_analyzer.js";
export { HybridSource } from "./recall/hybrid_source.js";
export type { HybridSourceEntry, HybridSourceParams } from "./recall/hybrid_source.js";

// Model profiles
export { EMBEDDING_PROFILES, resolveEmbeddingProfile } from "./models/embedding_profiles.js";
export type { EmbeddingPooling, EmbeddingProfile, EmbeddingProfileFacts } from "./models/embedding_profiles.js";
export { RERANKER_PROFILES } from "./models/reranker_profiles.js";
export type { RerankerProfile } from "./models/reranker_profiles.js";

// Evaluation
export { evaluate } from "./eval/evaluate.js";
export { evaluationToHTML } from "./eval/evaluation_html.js";
export type { EvaluationReportWithHtml } from "./eval/evaluation_html.js";
export { recallChartSVG } from "./eval/recall_chart.js";
export type { RecallChartParams } from "./eval/recall_chart.js";
export type { EvaluateParams, EvaluationReport, RecallKResult, RunEntry } from "./eval/evaluate.js";
export { loadBeirDataset, documentText } from "./eval/beir_dataset.js";
export type { BeirDataset, BeirDocument, BeirQuery } from "./eval/beir_dataset.js";
export { ndcgAt, recallAt, precisionAt, mrrAt, averagePrecisionAt } from "./eval/metrics.js";
export { formatTrecRun, writeTrecRun } from "./eval/trec_run.js";
