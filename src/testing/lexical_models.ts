import path from "node:path";

import { InvalidArgumentError } from "../errors.js";
import { GraphBuilder, OnnxType } from "./onnx_graph.js";
import { type BuiltModel, labelMaps, seededRandom, tokenIdf, writeBertConfig } from "./model_files.js";
import { buildTokenizer } from "./tokenizer_builder.js";

/** Options of {@link buildLexicalBiEncoder}. */
export interface BuildLexicalBiEncoderParams {
  /** Texts the vocabulary and the IDF weights come from. */
  corpus: readonly string[];
  /**
   * Embedding dimension.
   * @default 384
   */
  dim?: number;
  /**
   * Weight each token's vector by its IDF over `corpus`, so rare shared terms dominate the similarity.
   * @default true
   */
  idfWeighting?: boolean;
  /**
   * Largest tokenizer vocabulary.
   * @default 30522
   */
  vocabSize?: number;
  /**
   * Seed of the token vectors.
   * @default 0
   */
  seed?: number;
}

/** Options of {@link buildLexicalCrossEncoder}. */
export interface BuildLexicalCrossEncoderParams {
  /** Texts the vocabulary and the IDF weights come from. */
  corpus: readonly string[];
  /**
   * Size of the classification head: 1 (one relevance logit, like ms-marco cross-encoders) or 2 (label 1 is
   * "relevant"; softmax of the two logits equals the sigmoid of the 1-label logit).
   * @default 1
   */
  numLabels?: 1 | 2;
  /**
   * Largest tokenizer vocabulary.
   * @default 30522
   */
  vocabSize?: number;
}

/** Scale, bias and length penalty of the lexical cross-encoder's logit (see {@link buildLexicalCrossEncoder}). */
export const LEXICAL_CROSS_ENCODER = {
  scale: 10,
  bias: -5,
  lengthPenalty: 0.1,
  termSaturation: 0.5,
} as const;

function checkCorpus(corpus: unknown, builder: string): void {
  if (!Array.isArray(corpus) || corpus.length === 0 || corpus.some((t) => typeof t !== "string")) {
    throw new InvalidArgumentError(
      `${builder} needs \`corpus\`: a non-empty array of strings (its vocabulary and IDF).`,
    );
  }
}

/** Writes the graph to both ONNX file names transformers.js looks for (it has no weight MatMuls to quantize). */
function writeBothVariants(graph: GraphBuilder, dir: string): string[] {
  const files = [path.join(dir, "onnx", "model.onnx"), path.join(dir, "onnx", "model_quantized.onnx")];
  for (const file of files) graph.write(file);
  return files;
}

/**
 * Builds a deterministic feature-extraction model whose mean-pooled, normalised embeddings have cosine similarity
 * that tracks IDF-weighted lexical overlap: each token's output vector is a fixed random ±1 vector (seeded by its
 * id) scaled by the token's IDF; special and padding tokens output zero. A stand-in for `all-MiniLM-L6-v2` in tests.
 *
 * @example
 * ```ts
 * buildLexicalBiEncoder("/tmp/models/bi", { corpus: docs });
 * const embed = await pipeline("feature-extraction", "/tmp/models/bi", { local_files_only: true });
 * const out = await embed(["faiss index"], { pooling: "mean", normalize: true }); // out.dims: [1, 384]
 * ```
 */
export function buildLexicalBiEncoder(dir: string, params: BuildLexicalBiEncoderParams): BuiltModel {
  checkCorpus(params.corpus, "buildLexicalBiEncoder");
  const dim = params.dim ?? 384;
  if (!Number.isInteger(dim) || dim <= 0) throw new InvalidArgumentError(`dim must be a positive integer; got ${dim}.`);
  const tokenizer = buildTokenizer(dir, { corpus: params.corpus, vocabSize: params.vocabSize ?? 30522 });
  const idf = tokenIdf(tokenizer, params.corpus);
  const random = seededRandom(params.seed ?? 0);
  const table = new Float32Array(tokenizer.size * dim);
  const unit = 1 / Math.sqrt(dim);
  for (let id = 0; id < tokenizer.size; id++) {
    const weight = (params.idfWeighting ?? true) ? idf[id] : idf[id] > 0 ? 1 : 0;
    for (let j = 0; j < dim; j++) table[id * dim + j] = (random() < 0.5 ? -unit : unit) * weight;
  }

  const g = new GraphBuilder("lexical_bi_encoder");
  const ids = g.input("input_ids", OnnxType.INT64, ["batch", "sequence"]);
  const mask = g.input("attention_mask", OnnxType.INT64, ["batch", "sequence"]);
  const vectors = g.op("Gather", [g.initializer("embeddings.token_vectors", table, [tokenizer.size, dim]), ids]);
  const maskF = g.op("Unsqueeze", [g.op("Cast", [mask], { to: OnnxType.FLOAT }), g.int64([2])]);
  g.op("Mul", [vectors, maskF], {}, "last_hidden_state");
  g.output("last_hidden_state", OnnxType.FLOAT, ["batch", "sequence", dim]);
  const files = writeBothVariants(g, dir);

  writeBertConfig(dir, {
    architectures: ["BertModel"],
    hidden_size: dim,
    vocab_size: tokenizer.size,
    max_position_embeddings: 512,
    num_hidden_layers: 0,
    two_stage_testing_model: "lexical-bi-encoder",
  });
  return { dir, tokenizer, files };
}

/**
 * Builds a deterministic cross-encoder with BertForSequenceClassification I/O (`input_ids`, `attention_mask`,
 * `token_type_ids` → `logits` [batch, numLabels]). Like a real cross-encoder it reads both segments together:
 * for every query token (segment 0) it counts that token's occurrences in the document (segment 1), and scores
 *
 *     coverage = Σ_q idf(q)·tf(q)/(tf(q)+0.5) / Σ_q idf(q)
 *     logit    = 10·coverage − 5 − 0.1·ln(1 + document length)
 *
 * so documents holding the query's rare terms score highest and extra unrelated text costs only a little. Special
 * and padding tokens are ignored. A stand-in for `ms-marco-MiniLM-L-6-v2` in tests.
 *
 * @example
 * ```ts
 * buildLexicalCrossEncoder("/tmp/models/ce", { corpus: docs });
 * // AutoTokenizer + AutoModelForSequenceClassification load it; logits for ("faiss", "FAISS is fast") ≈ 1.4
 * ```
 */
export function buildLexicalCrossEncoder(dir: string, params: BuildLexicalCrossEncoderParams): BuiltModel {
  checkCorpus(params.corpus, "buildLexicalCrossEncoder");
  const numLabels = params.numLabels ?? 1;
  if (numLabels !== 1 && numLabels !== 2) {
    throw new InvalidArgumentError(`numLabels must be 1 or 2; got ${String(numLabels)}.`);
  }
  const tokenizer = buildTokenizer(dir, { corpus: params.corpus, vocabSize: params.vocabSize ?? 30522 });
  const idf = tokenIdf(tokenizer, params.corpus);
  const { scale, bias, lengthPenalty, termSaturation } = LEXICAL_CROSS_ENCODER;

  const g = new GraphBuilder("lexical_cross_encoder");
  const ids = g.input("input_ids", OnnxType.INT64, ["batch", "sequence"]);
  const attention = g.input("attention_mask", OnnxType.INT64, ["batch", "sequence"]);
  const types = g.input("token_type_ids", OnnxType.INT64, ["batch", "sequence"]);
  const m = g.op("Cast", [attention], { to: OnnxType.FLOAT });
  const docMask = g.op("Mul", [g.op("Cast", [types], { to: OnnxType.FLOAT }), m]);
  const queryMask = g.op("Sub", [m, docMask]);
  const queryWeight = g.op("Mul", [queryMask, g.op("Gather", [g.initializer("token_idf", idf, [idf.length]), ids])]);
  // same[b, i, j] = 1 where token i and token j are the same vocabulary entry.
  const same = g.op(
    "Cast",
    [g.op("Equal", [g.op("Unsqueeze", [ids, g.int64([2])]), g.op("Unsqueeze", [ids, g.int64([1])])])],
    {
      to: OnnxType.FLOAT,
    },
  );
  const tf = g.op("ReduceSum", [g.op("Mul", [same, g.op("Unsqueeze", [docMask, g.int64([1])])]), g.int64([2])], {
    keepdims: 0,
  });
  const saturated = g.op("Div", [tf, g.op("Add", [tf, g.scalar(termSaturation)])]);
  const matched = g.op("ReduceSum", [g.op("Mul", [queryWeight, saturated]), g.int64([1])], { keepdims: 1 });
  const total = g.op("Add", [g.op("ReduceSum", [queryWeight, g.int64([1])], { keepdims: 1 }), g.scalar(1e-6)]);
  const coverage = g.op("Div", [matched, total]);
  const docLength = g.op("ReduceSum", [docMask, g.int64([1])], { keepdims: 1 });
  const penalty = g.op("Mul", [g.op("Log", [g.op("Add", [docLength, g.scalar(1)])]), g.scalar(lengthPenalty)]);
  const logit = g.op("Sub", [g.op("Add", [g.op("Mul", [coverage, g.scalar(scale)]), g.scalar(bias)]), penalty]);
  if (numLabels === 1) {
    g.op("Identity", [logit], {}, "logits");
  } else {
    const half = g.op("Mul", [logit, g.scalar(0.5)]);
    g.op("Concat", [g.op("Neg", [half]), half], { axis: 1 }, "logits");
  }
  g.output("logits", OnnxType.FLOAT, ["batch", numLabels]);
  const files = writeBothVariants(g, dir);

  writeBertConfig(dir, {
    architectures: ["BertForSequenceClassification"],
    vocab_size: tokenizer.size,
    max_position_embeddings: 512,
    num_hidden_layers: 0,
    ...labelMaps(numLabels),
    two_stage_testing_model: "lexical-cross-encoder",
  });
  return { dir, tokenizer, files };
}
