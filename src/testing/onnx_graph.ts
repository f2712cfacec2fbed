import fs from "node:fs";
import path from "node:path";

import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";

const { onnx } = onnxProto;

/** ONNX element types used by the builders (TensorProto.DataType). */
export const OnnxType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;

export type OnnxElementType = (typeof OnnxType)[keyof typeof OnnxType];

/** Typed arrays that can back an initializer, with their ONNX element type. */
export type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

/** An attribute value: ints and floats are told apart with {@link float}. */
export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

/** Marks a number attribute as FLOAT (plain numbers are INT). */
export function float(value: number): { float: number } {
  return { float: value };
}

function elementTypeOf(data: TensorData): OnnxElementType {
  if (data instanceof Float32Array) return OnnxType.FLOAT;
  if (data instanceof Uint8Array) return OnnxType.UINT8;
  if (data instanceof Int8Array) return OnnxType.INT8;
  if (data instanceof Int32Array) return OnnxType.INT32;
  return OnnxType.INT64;
}

function attribute(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === "number") return { name, type: AttributeType.INT, i: value };
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ("float" in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, elemType: OnnxElementType, dims: (number | string)[]): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * A small builder for ONNX graphs: declare inputs, outputs and initializers, chain operators, serialise. Operator
 * outputs get unique generated names unless given one, so graphs read like the forward pass they compute.
 */
export class GraphBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** Declares a graph input and returns its name. */
  input(name: string, elemType: OnnxElementType, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output (an existing value name). */
  output(name: string, elemType: OnnxElementType, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a constant tensor (weights) and returns its name. */
  initializer(name: string, data: TensorData, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) {
      throw new Error(`Initializer '${name}' has ${data.length} values but dims [${dims}] need ${expected}.`);
    }
    this.initializers.push({
      name,
      dims,
      dataType: elementTypeOf(data),
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** An int64 constant (shapes, axes, indices). A scalar when `scalar` is true. */
  int64(values: number[], scalar = false): string {
    return this.initializer(
      this.fresh("const_i64"),
      BigInt64Array.from(values, (v) => BigInt(v)),
      scalar ? [] : [values.length],
    );
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.initializer(this.fresh("const_f32"), Float32Array.of(value), []);
  }

  /** Appends an operator node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputName?: string): string {
    const out = outputName ?? this.fresh(opType.toLowerCase());
    this.opMulti(opType, inputs, [out], attributes);
    return out;
  }

  /** Appends an operator node with several named outputs. */
  opMulti(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): void {
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: `${opType}_${this.nodes.length}`,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
  }

  /** A fresh value name with the given stem. */
  fresh(stem: string): string {
    this.counter += 1;
    return `${stem}_${this.counter}`;
  }

  /** Serialises the graph as an ONNX model (IR 8, default-domain opset `opset`). */
  toBytes(opset = 17): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "two-stage-retriever",
      opsetImport: [{ domain: "", version: opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Writes the model to `file`, creating its folder. */
  write(file: string, opset = 17): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, this.toBytes(opset));
  }
}

/** One initializer read back from a model file. */
export interface OnnxInitializer {
  dims: number[];
  dataType: number;
  /** Float32Array for FLOAT, Int8Array / Uint8Array for INT8 / UINT8, BigInt64Array for INT64. */
  data: TensorData;
}

/** Reads every initializer of an ONNX model file (used to check graphs independently of ONNX Runtime). */
export function readOnnxInitializers(file: string): Map<string, OnnxInitializer> {
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const out = new Map<string, OnnxInitializer>();
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData ?? new Uint8Array();
    // Copy: the decoder hands out views into the file's buffer (Buffer#slice does not copy), unaligned for floats.
    const bytes = new Uint8Array(raw.byteLength);
    bytes.set(raw);
    const dims = (tensor.dims ?? []).map(Number);
    let data: TensorData;
    switch (tensor.dataType) {
      case OnnxType.FLOAT:
        data = new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
        break;
      case OnnxType.INT8:
        data = new Int8Array(bytes.buffer);
        break;
      case OnnxType.UINT8:
        data = bytes;
        break;
      case OnnxType.INT32:
        data = new Int32Array(bytes.buffer, 0, bytes.byteLength / 4);
        break;
      default:
        data = new BigInt64Array(bytes.buffer, 0, bytes.byteLength / 8);
    }
    out.set(tensor.name ?? "", { dims, dataType: tensor.dataType ?? 0, data });
  }
  return out;
}
