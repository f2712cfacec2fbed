import path from "node:path";

import type { onnx as Onnx } from "onnx-proto";

import { InvalidArgumentError } from "../errors.js";
import { GraphBuilder, OnnxType, float } from "./onnx_graph.js";
import { type BuiltModel, labelMaps, normalArray, seededRandom, writeBertConfig } from "./model_files.js";
import { buildTokenizer } from "./tokenizer_builder.js";

/** Shape of a BERT encoder. */
export interface BertShape {
  vocabSize: number;
  layers: number;
  heads: number;
  hidden: number;
  intermediate: number;
  maxPositions: number;
  typeVocabSize: number;
  /** Standard deviation of the pseudo-random weights. */
  initStd: number;
}

/**
 * Known presets, shaped like the published models (parameter counts with the classification head):
 * `minilm-l6` like all-MiniLM-L6-v2 / ms-marco-MiniLM-L-6-v2 (22,713,601), `minilm-l4` like ms-marco-MiniLM-L-4-v2
 * (19,164,673), `minilm-l2` like ms-marco-MiniLM-L-2-v2 (15,615,745), `tinybert-l2` like ms-marco-TinyBERT-L-2-v2
 * (2 layers, hidden 128, 2 heads, FFN 512: 4,386,049) — the cheap first stage of a cascade.
 */
export const BERT_PRESETS = {
  "minilm-l6": {
    vocabSize: 30522,
    layers: 6,
    heads: 12,
    hidden: 384,
    intermediate: 1536,
    maxPositions: 512,
    typeVocabSize: 2,
    initStd: 0.02,
  },
  "minilm-l4": {
    vocabSize: 30522,
    layers: 4,
    heads: 12,
    hidden: 384,
    intermediate: 1536,
    maxPositions: 512,
    typeVocabSize: 2,
    initStd: 0.02,
  },
  "minilm-l2": {
    vocabSize: 30522,
    layers: 2,
    heads: 12,
    hidden: 384,
    intermediate: 1536,
    maxPositions: 512,
    typeVocabSize: 2,
    initStd: 0.02,
  },
  "tinybert-l2": {
    vocabSize: 30522,
    layers: 2,
    heads: 2,
    hidden: 128,
    intermediate: 512,
    maxPositions: 512,
    typeVocabSize: 2,
    initStd: 0.02,
  },
  tiny: {
    vocabSize: 512,
    layers: 2,
    heads: 4,
    hidden: 32,
    intermediate: 64,
    maxPositions: 128,
    typeVocabSize: 2,
    initStd: 0.2,
  },
} as const satisfies Record<string, BertShape>;

export type BertPreset = keyof typeof BERT_PRESETS;

/** Options of {@link buildBertModel}. */
export interface BuildBertModelParams {
  /** Encoder shape. */
  preset: BertPreset;
  /** `embedding`: `last_hidden_state` (feature extraction); `classification`: pooler + classifier → `logits`. */
  head: "embedding" | "classification";
  /**
   * Seed of the pseudo-random weights.
   * @default 0
   */
  seed?: number;
  /**
   * Also write `onnx/model_quantized.onnx`, with the weight MatMuls dynamically quantized to int8
   * (DynamicQuantizeLinear + MatMulInteger, as in the Xenova `_quantized` files).
   * @default false
   */
  quantize?: boolean;
  /**
   * Size of the classification head.
   * @default 1
   */
  numLabels?: number;
  /**
   * Texts the tokenizer's vocabulary is derived from (padded with `[unusedN]` to the preset's vocabulary size).
   * @default a short built-in English sample
   */
  corpus?: readonly string[];
  /**
   * `bert`: inputs `input_ids`, `attention_mask`, `token_type_ids` (2 types), positions 0..n-1, `[CLS] q [SEP] d
   * [SEP]`. `roberta`: the XLM-RoBERTa shape of bge-reranker: no `token_type_ids` input (type vocabulary of 1),
   * positions counted from `pad_token_id + 1` over non-padding tokens (so `max_position_embeddings` is the preset's
   * length + 2), `<s> q </s></s> d </s>` through the tokenizer's `RobertaProcessing`, config `model_type`
   * `xlm-roberta`.
   * @default "bert"
   */
  family?: "bert" | "roberta";
}

/** XLM-R's padding id: position ids start after it. */
const ROBERTA_PAD_ID = 1;

const DEFAULT_CORPUS = [
  "A bi-encoder embeds documents once; FAISS returns the nearest candidates in milliseconds.",
  "A cross-encoder reads the query and each candidate together and reorders them for precision.",
  "Recall is a stage-one problem: no reranker can recover a document that was never retrieved.",
];

/** Weights of one linear layer, stored as [in, out] for MatMul. */
interface Linear {
  weight: string;
  bias: string;
  /** The float weights, kept for quantization. */
  values: Float32Array;
  rows: number;
  cols: number;
}

class BertGraph {
  readonly fp32: GraphBuilder;
  private readonly random: () => number;
  private readonly linears: Linear[] = [];

  constructor(
    private readonly shape: BertShape,
    seed: number,
    private readonly family: "bert" | "roberta" = "bert",
  ) {
    this.fp32 = new GraphBuilder("bert");
    this.random = seededRandom(seed);
  }

  weights(name: string, dims: number[], std = this.shape.initStd, mean = 0): string {
    const count = dims.reduce((a, b) => a * b, 1);
    return this.fp32.initializer(name, normalArray(count, this.random, std, mean), dims);
  }

  linear(name: string, rows: number, cols: number): Linear {
    const values = normalArray(rows * cols, this.random, this.shape.initStd);
    const linear = {
      weight: this.fp32.initializer(`${name}.weight`, values, [rows, cols]),
      bias: this.weights(`${name}.bias`, [cols]),
      values,
      rows,
      cols,
    };
    this.linears.push(linear);
    return linear;
  }

  /** x·W + b with a placeholder MatMul that quantization can rewrite. */
  apply(x: string, linear: Linear): string {
    return this.fp32.op("Add", [
      this.fp32.op("MatMul", [x, linear.weight], {}, `${linear.weight}.matmul_out`),
      linear.bias,
    ]);
  }

  layerNorm(x: string, name: string): string {
    const gamma = this.weights(`${name}.weight`, [this.shape.hidden], 0.05, 1);
    const beta = this.weights(`${name}.bias`, [this.shape.hidden], 0.02);
    return this.fp32.op("LayerNormalization", [x, gamma, beta], { axis: -1, epsilon: float(1e-12) });
  }

  build(head: "embedding" | "classification", numLabels: number): void {
    const { hidden, heads, layers, intermediate, vocabSize, maxPositions, typeVocabSize } = this.shape;
    const headDim = hidden / heads;
    const g = this.fp32;
    const ids = g.input("input_ids", OnnxType.INT64, ["batch", "sequence"]);
    const mask = g.input("attention_mask", OnnxType.INT64, ["batch", "sequence"]);
    const roberta = this.family === "roberta";

    const word = g.op("Gather", [this.weights("embeddings.word_embeddings.weight", [vocabSize, hidden]), ids]);
    let positions: string;
    if (roberta) {
      // transformers' create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad.
      const notPad = g.op("Cast", [g.op("Not", [g.op("Equal", [ids, g.int64([ROBERTA_PAD_ID], true)])])], {
        to: OnnxType.INT64,
      });
      const counted = g.op("Mul", [g.op("CumSum", [notPad, g.int64([1], true)]), notPad]);
      positions = g.op("Add", [counted, g.int64([ROBERTA_PAD_ID], true)]);
    } else {
      const seqLen = g.op("Gather", [g.op("Shape", [ids]), g.int64([1], true)]);
      positions = g.op("Range", [g.int64([0], true), seqLen, g.int64([1], true)]);
    }
    const positionRows = roberta ? maxPositions + ROBERTA_PAD_ID + 1 : maxPositions;
    const position = g.op("Gather", [
      this.weights("embeddings.position_embeddings.weight", [positionRows, hidden]),
      positions,
    ]);
    const typeTable = this.weights("embeddings.token_type_embeddings.weight", [roberta ? 1 : typeVocabSize, hidden]);
    // RoBERTa has one token type: every token adds row 0 (the graph takes no token_type_ids).
    const type = roberta
      ? g.op("Gather", [typeTable, g.int64([0], true)])
      : g.op("Gather", [typeTable, g.input("token_type_ids", OnnxType.INT64, ["batch", "sequence"])]);
    let x = this.layerNorm(g.op("Add", [g.op("Add", [word, position]), type]), "embeddings.LayerNorm");

    // Additive attention mask: 0 where attended, -10000 at padding; shape [batch, 1, 1, sequence].
    const maskF = g.op("Cast", [g.op("Unsqueeze", [mask, g.int64([1, 2])])], { to: OnnxType.FLOAT });
    const additive = g.op("Mul", [g.op("Sub", [g.scalar(1), maskF]), g.scalar(-10000)]);
    const splitHeads = g.int64([0, 0, heads, headDim]);
    const mergeHeads = g.int64([0, 0, hidden]);
    const invSqrt = g.scalar(1 / Math.sqrt(headDim));

    for (let l = 0; l < layers; l++) {
      const p = `encoder.layer.${l}`;
      const q = this.linear(`${p}.attention.self.query`, hidden, hidden);
      const k = this.linear(`${p}.attention.self.key`, hidden, hidden);
      const v = this.linear(`${p}.attention.self.value`, hidden, hidden);
      const o = this.linear(`${p}.attention.output.dense`, hidden, hidden);
      const qh = g.op("Transpose", [g.op("Reshape", [this.apply(x, q), splitHeads])], { perm: [0, 2, 1, 3] });
      const kh = g.op("Transpose", [g.op("Reshape", [this.apply(x, k), splitHeads])], { perm: [0, 2, 3, 1] });
      const vh = g.op("Transpose", [g.op("Reshape", [this.apply(x, v), splitHeads])], { perm: [0, 2, 1, 3] });
      const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [qh, kh]), invSqrt]), additive]);
      const context = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), vh]);
      const merged = g.op("Reshape", [g.op("Transpose", [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
      x = this.layerNorm(g.op("Add", [this.apply(merged, o), x]), `${p}.attention.output.LayerNorm`);

      const up = this.linear(`${p}.intermediate.dense`, hidden, intermediate);
      const down = this.linear(`${p}.output.dense`, intermediate, hidden);
      const h = this.apply(x, up);
      // Exact GELU: 0.5·h·(1 + erf(h/√2)).
      const gelu = g.op("Mul", [
        g.op("Mul", [h, g.scalar(0.5)]),
        g.op("Add", [g.op("Erf", [g.op("Mul", [h, g.scalar(Math.SQRT1_2)])]), g.scalar(1)]),
      ]);
      x = this.layerNorm(g.op("Add", [this.apply(gelu, down), x]), `${p}.output.LayerNorm`);
    }

    if (head === "embedding") {
      g.op("Identity", [x], {}, "last_hidden_state");
      g.output("last_hidden_state", OnnxType.FLOAT, ["batch", "sequence", hidden]);
      return;
    }
    const cls = g.op("Gather", [x, g.int64([0], true)], { axis: 1 });
    const pooled = g.op("Tanh", [this.apply(cls, this.linear("pooler.dense", hidden, hidden))]);
    g.op("Identity", [this.apply(pooled, this.linear("classifier", hidden, numLabels))], {}, "logits");
    g.output("logits", OnnxType.FLOAT, ["batch", numLabels]);
  }

  /** The linear layers, for quantization. */
  get linearLayers(): readonly Linear[] {
    return this.linears;
  }
}

/** Symmetric per-tensor int8 quantization of a weight matrix: q = round(w / scale), scale = max|w| / 127. */
function quantizeWeights(values: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const magnitude = values[i] < 0 ? -values[i] : values[i];
    if (magnitude > max) max = magnitude;
  }
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(values.length);
  // Round half away from zero without Math calls (slow under jest); |w / scale| <= 127 by construction.
  for (let i = 0; i < values.length; i++) {
    const x = values[i] / scale;
    q[i] = x >= 0 ? (x + 0.5) | 0 : -((-x + 0.5) | 0);
  }
  return { q, scale };
}

/**
 * Rewrites the serialised fp32 graph into its dynamically quantized twin: every weight MatMul `x·W` becomes
 * `DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, 0) → Cast → × (x_scale·W_scale)`. Other nodes and
 * initializers are kept; the float weights of quantized MatMuls are dropped.
 */
async function writeQuantized(fp32File: string, graph: BertGraph, outFile: string): Promise<void> {
  const { default: onnxProto } = await import("onnx-proto");
  const fs = await import("node:fs");
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(fs.readFileSync(fp32File));
  const modelGraph = model.graph!;
  const byWeight = new Map(graph.linearLayers.map((linear) => [linear.weight, linear]));
  const nodes: Onnx.INodeProto[] = [];
  const extra: Onnx.ITensorProto[] = [];
  const tensor = (name: string, dataType: number, dims: number[], data: ArrayBufferView) =>
    onnx.TensorProto.create({
      name,
      dataType,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  for (const node of modelGraph.node ?? []) {
    const [x, weightName] = node.input ?? [];
    const linear = node.opType === "MatMul" ? byWeight.get(weightName) : undefined;
    if (!linear) {
      nodes.push(node);
      continue;
    }
    const { q, scale } = quantizeWeights(linear.values);
    const w = linear.weight;
    extra.push(
      tensor(`${w}_quantized`, OnnxType.INT8, [linear.rows, linear.cols], q),
      tensor(`${w}_zero_point`, OnnxType.INT8, [], Int8Array.of(0)),
      tensor(`${w}_scale`, OnnxType.FLOAT, [], Float32Array.of(scale)),
    );
    const out = (node.output ?? [])[0];
    const make = (opType: string, input: string[], output: string[], attribute: object[] = []) =>
      onnx.NodeProto.create({ opType, input, output, name: `${output[0]}_node`, attribute });
    nodes.push(
      make("DynamicQuantizeLinear", [x], [`${w}_x_q`, `${w}_x_scale`, `${w}_x_zp`]),
      make("MatMulInteger", [`${w}_x_q`, `${w}_quantized`, `${w}_x_zp`, `${w}_zero_point`], [`${w}_int32`]),
      make("Cast", [`${w}_int32`], [`${w}_float`], [{ name: "to", type: 2, i: OnnxType.FLOAT }]),
      make("Mul", [`${w}_x_scale`, `${w}_scale`], [`${w}_combined_scale`]),
      make("Mul", [`${w}_float`, `${w}_combined_scale`], [out]),
    );
  }
  modelGraph.node = nodes;
  modelGraph.initializer = [...(modelGraph.initializer ?? []).filter((t) => !byWeight.has(t.name ?? "")), ...extra];
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, onnx.ModelProto.encode(model).finish());
}

/**
 * Builds a genuine BERT encoder (word/position/type embeddings, LayerNorm ε = 1e-12, multi-head self-attention
 * with the attention mask, exact-GELU feed-forward, residuals; pooler + classifier for the classification head)
 * with deterministic pseudo-random weights, plus a tokenizer. The weights are meaningless: the model exists to pay
 * the true compute cost of the default models in benchmarks and to prove the loading path, never to rank.
 *
 * @example
 * ```ts
 * await buildBertModel(".cache/models/minilm-ce", { preset: "minilm-l6", head: "classification", quantize: true });
 * // writes onnx/model.onnx (~91 MB) and onnx/model_quantized.onnx (~35 MB)
 * ```
 */
export async function buildBertModel(dir: string, params: BuildBertModelParams): Promise<BuiltModel> {
  const shape: BertShape | undefined = (BERT_PRESETS as Record<string, BertShape>)[params.preset];
  if (!shape) {
    throw new InvalidArgumentError(
      `Unknown preset '${String(params.preset)}'. Expected one of: ${Object.keys(BERT_PRESETS).join(", ")}.`,
    );
  }
  if (params.head !== "embedding" && params.head !== "classification") {
    throw new InvalidArgumentError(
      `Unknown head '${String(params.head)}'. Expected one of: embedding, classification.`,
    );
  }
  const numLabels = params.numLabels ?? 1;
  const family = params.family ?? "bert";
  if (family !== "bert" && family !== "roberta") {
    throw new InvalidArgumentError(`Unknown family '${String(family)}'. Expected one of: bert, roberta.`);
  }
  const roberta = family === "roberta";
  const tokenizer = buildTokenizer(dir, {
    corpus: params.corpus ?? DEFAULT_CORPUS,
    vocabSize: shape.vocabSize,
    padToVocabSize: true,
    modelMaxLength: shape.maxPositions,
    family,
  });
  const graph = new BertGraph(shape, params.seed ?? 0, family);
  graph.build(params.head, numLabels);
  const fp32File = path.join(dir, "onnx", "model.onnx");
  graph.fp32.write(fp32File);
  const files = [fp32File];
  if (params.quantize) {
    const quantizedFile = path.join(dir, "onnx", "model_quantized.onnx");
    await writeQuantized(fp32File, graph, quantizedFile);
    files.push(quantizedFile);
  }
  const architecture = roberta ? "XLMRoberta" : "Bert";
  writeBertConfig(dir, {
    ...(roberta ? { model_type: "xlm-roberta", pad_token_id: ROBERTA_PAD_ID, bos_token_id: 0, eos_token_id: 2 } : {}),
    architectures: [`${architecture}${params.head === "embedding" ? "Model" : "ForSequenceClassification"}`],
    vocab_size: shape.vocabSize,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    max_position_embeddings: roberta ? shape.maxPositions + ROBERTA_PAD_ID + 1 : shape.maxPositions,
    type_vocab_size: roberta ? 1 : shape.typeVocabSize,
    hidden_act: "gelu",
    layer_norm_eps: 1e-12,
    ...(params.head === "classification" ? labelMaps(numLabels) : {}),
    two_stage_testing_model: `${family}-${params.preset}-${params.head}`,
  });
  return { dir, tokenizer, files };
}
