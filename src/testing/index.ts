export { buildTokenizer, deriveVocabulary } from "./tokenizer_builder.js";
export type { BuildTokenizerParams } from "./tokenizer_builder.js";
export {
  WordPieceTokenizer,
  bertNormalize,
  bertPreTokenize,
  BERT_SPECIAL_TOKENS,
  ROBERTA_SPECIAL_TOKENS,
} from "./wordpiece.js";
export { buildLexicalBiEncoder, buildLexicalCrossEncoder, LEXICAL_CROSS_ENCODER } from "./lexical_models.js";
export type { BuildLexicalBiEncoderParams, BuildLexicalCrossEncoderParams } from "./lexical_models.js";
export { buildBertModel, BERT_PRESETS } from "./bert_model_builder.js";
export type { BuildBertModelParams, BertPreset, BertShape } from "./bert_model_builder.js";
export type { BuiltModel } from "./model_files.js";
export { GraphBuilder, OnnxType, readOnnxInitializers } from "./onnx_graph.js";
export type { OnnxInitializer } from "./onnx_graph.js";
export { randomUnitVectors } from "./random_vectors.js";
