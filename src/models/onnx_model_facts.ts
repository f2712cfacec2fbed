import fs from "node:fs";

import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";

import { ModelLoadError } from "../errors.js";

const { onnx } = onnxProto;

/** What an ONNX graph's output says the model computes. */
export type OnnxModelHead =
  | { kind: "embedding"; output: string }
  | { kind: "classifier"; output: string; labels: number }
  | { kind: "unknown"; outputs: string[] };

/** What can be read off an encoder's ONNX graph, without running it. */
export interface OnnxModelFacts {
  /** `bert` when the graph is a BERT-style encoder (word, position and type embeddings, `layer.N` blocks). */
  architecture: "bert" | "unknown";
  /** Why the architecture is unknown, when it is. */
  unknownReason?: string;
  /** The graph's inputs (`input_ids`, `attention_mask`, `token_type_ids`). */
  inputs: string[];
  head: OnnxModelHead;
  /** Rows of the word-embedding matrix (the vocabulary the tokenizer must fit). */
  vocabSize?: number;
  /** Columns of the word-embedding matrix. */
  hiddenSize?: number;
  /** Encoder blocks (`layer.N` in node and weight names). */
  layers?: number;
  /** Attention heads, from the shape the first attention block reshapes its queries to (`[b, s, heads, dim]`). */
  heads?: number;
  /** The feed-forward width (the other dimension of the `hidden × n` weights). */
  intermediateSize?: number;
  /** Rows of the position-embedding matrix. */
  maxPositions?: number;
  /** Rows of the token-type-embedding matrix. */
  typeVocabSize?: number;
  /** True when the weights are int8 (dynamic quantization: MatMulInteger, DynamicQuantizeLinear, ...). */
  quantized: boolean;
}

const QUANTIZED_OPS = new Set([
  "MatMulInteger",
  "DynamicQuantizeLinear",
  "DynamicQuantizeMatMul",
  "QLinearMatMul",
  "QAttention",
  "MatMulNBits",
  "QuantizeLinear",
]);

function dimsOf(tensor: Onnx.ITensorProto): number[] {
  return (tensor.dims ?? []).map(Number);
}

/** The int64 values of a tensor (raw little-endian data or `int64Data`). */
function int64Values(tensor: Onnx.ITensorProto | null | undefined): number[] | undefined {
  if (!tensor || tensor.dataType !== 7) return undefined;
  if (tensor.rawData && tensor.rawData.byteLength > 0) {
    const raw = tensor.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let offset = 0; offset + 8 <= raw.byteLength; offset += 8) out.push(Number(view.getBigInt64(offset, true)));
    return out;
  }
  return (tensor.int64Data ?? []).map(Number);
}

/** A graph with lookups by value name. */
class GraphIndex {
  readonly initializers = new Map<string, Onnx.ITensorProto>();
  readonly producers = new Map<string, Onnx.INodeProto>();

  constructor(readonly graph: Onnx.IGraphProto) {
    for (const tensor of graph.initializer ?? []) this.initializers.set(tensor.name ?? "", tensor);
    for (const node of graph.node ?? []) for (const output of node.output ?? []) this.producers.set(output, node);
  }

  /** The weight matrix behind a value: an initializer, possibly through DequantizeLinear / Cast / Identity. */
  weightOf(name: string, depth = 0): Onnx.ITensorProto | undefined {
    const direct = this.initializers.get(name);
    if (direct) return direct;
    const node = this.producers.get(name);
    if (!node || depth > 4) return undefined;
    if (["DequantizeLinear", "Cast", "Identity"].includes(node.opType ?? "")) {
      return this.weightOf((node.input ?? [])[0] ?? "", depth + 1);
    }
    return undefined;
  }

  /** A constant int64 vector behind a value (initializer, Constant node, Unsqueeze / Concat of those), else undefined. */
  constantInts(name: string, depth = 0): (number | undefined)[] | undefined {
    if (depth > 6) return undefined;
    const initializer = int64Values(this.initializers.get(name));
    if (initializer) return initializer;
    const node = this.producers.get(name);
    if (!node) return undefined;
    const inputs = node.input ?? [];
    switch (node.opType) {
      case "Constant":
        return int64Values((node.attribute ?? []).find((a) => a.name === "value")?.t);
      case "Unsqueeze":
        return this.constantInts(inputs[0], depth + 1) ?? [undefined];
      case "Concat":
        return inputs.flatMap((input) => this.constantInts(input, depth + 1) ?? [undefined]);
      default:
        return undefined;
    }
  }
}

/** The matrix a Gather over `input` reads rows of (e.g. the word embeddings over `input_ids`). */
function gatheredTable(index: GraphIndex, input: string): Onnx.ITensorProto | undefined {
  for (const node of index.graph.node ?? []) {
    if (node.opType !== "Gather" || (node.input ?? [])[1] !== input) continue;
    const table = index.weightOf((node.input ?? [])[0]);
    if (table && dimsOf(table).length === 2) return table;
  }
  return undefined;
}

/** The initializer whose name ends with one of `suffixes` (possibly `_quantized`), 2-D. */
function namedTable(index: GraphIndex, pattern: RegExp): Onnx.ITensorProto | undefined {
  for (const [name, tensor] of index.initializers) {
    if (pattern.test(name) && dimsOf(tensor).length === 2) return tensor;
  }
  return undefined;
}

function mostCommon(values: number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: number | undefined;
  for (const [value, count] of counts) if (best === undefined || count > counts.get(best)!) best = value;
  return best;
}

function headOf(index: GraphIndex): OnnxModelHead {
  const outputs = index.graph.output ?? [];
  const names = outputs.map((o) => o.name ?? "");
  const embedding = outputs.find((o) => o.name === "last_hidden_state" || o.name === "token_embeddings");
  if (embedding) return { kind: "embedding", output: embedding.name ?? "" };
  const logits = outputs.find((o) => o.name === "logits");
  if (logits) {
    const dims = logits.type?.tensorType?.shape?.dim ?? [];
    let labels = dims.length === 2 && dims[1].dimValue ? Number(dims[1].dimValue) : undefined;
    if (labels === undefined) {
      const classifier = namedTable(index, /(^|\.)classifier(\.out_proj)?\.weight(_quantized)?$/);
      if (classifier) labels = Math.min(...dimsOf(classifier));
    }
    if (labels !== undefined && labels > 0) return { kind: "classifier", output: "logits", labels };
  }
  return { kind: "unknown", outputs: names };
}

/**
 * Reads what a transformers.js `config.json` needs from an encoder's ONNX graph: vocabulary and hidden size from
 * the word-embedding matrix (the table a Gather over `input_ids` reads, int8 or float), layers from the `layer.N`
 * names, heads from the shape the first attention block reshapes to, positions and type vocabulary from their
 * embedding tables, and the head from the outputs (`last_hidden_state`: an embedding model; `logits [batch, n]`: a
 * classifier with n labels). Refused when the file is not an ONNX model.
 */
export function readOnnxModelFacts(file: string): OnnxModelFacts {
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(file));
  } catch (error) {
    throw new ModelLoadError(
      `${file} is not a readable ONNX model (${error instanceof Error ? error.message : String(error)}). ` +
        "Pass the .onnx file of a transformers.js / optimum export.",
      { cause: error },
    );
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new ModelLoadError(`${file} holds no ONNX graph. Pass the .onnx file of a transformers.js / optimum export.`);
  }
  const index = new GraphIndex(model.graph);
  const inputs = (model.graph.input ?? []).map((i) => i.name ?? "").filter((name) => !index.initializers.has(name));
  const quantized =
    (model.graph.node ?? []).some((node) => QUANTIZED_OPS.has(node.opType ?? "")) ||
    [...index.initializers.values()].some((t) => (t.dataType === 2 || t.dataType === 3) && dimsOf(t).length === 2);

  const word = inputs.includes("input_ids")
    ? (gatheredTable(index, "input_ids") ?? namedTable(index, /word_embeddings\.weight(_quantized)?$/))
    : undefined;
  const [vocabSize, hiddenSize] = word ? dimsOf(word) : [undefined, undefined];
  const position = namedTable(index, /position_embeddings\.weight(_quantized)?$/);
  const type = namedTable(index, /token_type_embeddings\.weight(_quantized)?$/);

  const layerIds = new Set<number>();
  const noteLayers = (name: string) => {
    for (const match of name.matchAll(/layers?[._/](\d+)[./_]/g)) layerIds.add(Number(match[1]));
  };
  for (const node of model.graph.node ?? []) {
    noteLayers(node.name ?? "");
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) noteLayers(name);
  }
  for (const name of index.initializers.keys()) noteLayers(name);
  const layers = layerIds.size > 0 ? Math.max(...layerIds) + 1 : undefined;

  const headCandidates: number[] = [];
  const widths: number[] = [];
  if (hiddenSize !== undefined) {
    for (const node of model.graph.node ?? []) {
      if (node.opType !== "Reshape") continue;
      const shape = index.constantInts((node.input ?? [])[1] ?? "");
      if (shape?.length !== 4) continue;
      const [heads, dim] = [shape[2], shape[3]];
      if (heads !== undefined && dim !== undefined && heads > 0 && heads * dim === hiddenSize)
        headCandidates.push(heads);
    }
    for (const [name, tensor] of index.initializers) {
      const dims = dimsOf(tensor);
      if (dims.length !== 2 || tensor === word || tensor === position || tensor === type || /embeddings/.test(name)) {
        continue;
      }
      if (dims[0] === hiddenSize && dims[1] !== hiddenSize) widths.push(dims[1]);
      else if (dims[1] === hiddenSize && dims[0] !== hiddenSize) widths.push(dims[0]);
    }
  }
  const intermediateCandidates = widths.filter((w) => w > 2);

  const facts: OnnxModelFacts = {
    architecture: "unknown",
    inputs,
    head: headOf(index),
    vocabSize,
    hiddenSize,
    layers,
    heads: mostCommon(headCandidates),
    intermediateSize: mostCommon(intermediateCandidates),
    maxPositions: position ? dimsOf(position)[0] : undefined,
    typeVocabSize: type ? dimsOf(type)[0] : undefined,
    quantized,
  };
  const missing = [
    word ? undefined : "a word-embedding matrix read by input_ids",
    position ? undefined : "position embeddings",
    layers ? undefined : "encoder layers (layer.N)",
    inputs.includes("attention_mask") ? undefined : "an attention_mask input",
  ].filter((m): m is string => m !== undefined);
  if (missing.length === 0) facts.architecture = "bert";
  else facts.unknownReason = `no ${missing.join(", no ")}`;
  return facts;
}
