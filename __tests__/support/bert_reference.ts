import type { OnnxInitializer } from "../../src/testing/onnx_graph.js";

/**
 * An independent BERT forward pass in plain TypeScript (float64 math, no ONNX Runtime), reading the weights by
 * name from a model's initializers. Used to prove that the graph `buildBertModel` writes is real BERT.
 */
export interface BertReferenceShape {
  layers: number;
  heads: number;
  hidden: number;
  intermediate: number;
}

type Weights = Map<string, OnnxInitializer>;

function get(weights: Weights, name: string): Float32Array {
  const found = weights.get(name);
  if (!found || !(found.data instanceof Float32Array)) throw new Error(`missing float initializer ${name}`);
  return found.data;
}

/** rows × in  ·  in × out (+ bias) */
function linear(x: number[][], w: Float32Array, b: Float32Array, out: number): number[][] {
  return x.map((row) => {
    const result = new Array<number>(out).fill(0);
    for (let o = 0; o < out; o++) {
      let sum = b[o];
      for (let i = 0; i < row.length; i++) sum += row[i] * w[i * out + o];
      result[o] = sum;
    }
    return result;
  });
}

function layerNorm(x: number[][], gamma: Float32Array, beta: Float32Array): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    const inv = 1 / Math.sqrt(variance + 1e-12);
    return row.map((v, i) => (v - mean) * inv * gamma[i] + beta[i]);
  });
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-4; use a series / continued fraction split.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

/** Hidden states [sequence][hidden] of one unpadded sequence. */
export function bertForward(weights: Weights, shape: BertReferenceShape, ids: number[], types: number[]): number[][] {
  const { hidden, heads, intermediate } = shape;
  const headDim = hidden / heads;
  const word = get(weights, "embeddings.word_embeddings.weight");
  const pos = get(weights, "embeddings.position_embeddings.weight");
  const typ = get(weights, "embeddings.token_type_embeddings.weight");
  let x = ids.map((id, p) =>
    Array.from({ length: hidden }, (_, j) => word[id * hidden + j] + pos[p * hidden + j] + typ[types[p] * hidden + j]),
  );
  x = layerNorm(x, get(weights, "embeddings.LayerNorm.weight"), get(weights, "embeddings.LayerNorm.bias"));
  for (let l = 0; l < shape.layers; l++) {
    const p = `encoder.layer.${l}`;
    const lin = (input: number[][], name: string, out: number) =>
      linear(input, get(weights, `${p}.${name}.weight`), get(weights, `${p}.${name}.bias`), out);
    const q = lin(x, "attention.self.query", hidden);
    const k = lin(x, "attention.self.key", hidden);
    const v = lin(x, "attention.self.value", hidden);
    const context = x.map(() => new Array<number>(hidden).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[i][h * headDim + d] * k[j][h * headDim + d];
          return dot / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++) {
          for (let d = 0; d < headDim; d++) context[i][h * headDim + d] += (exps[j] / total) * v[j][h * headDim + d];
        }
      }
    }
    const attn = lin(context, "attention.output.dense", hidden);
    x = layerNorm(
      x.map((row, i) => row.map((val, j) => val + attn[i][j])),
      get(weights, `${p}.attention.output.LayerNorm.weight`),
      get(weights, `${p}.attention.output.LayerNorm.bias`),
    );
    const up = lin(x, "intermediate.dense", intermediate).map((row) =>
      row.map((h) => 0.5 * h * (1 + erf(h / Math.SQRT2))),
    );
    const down = lin(up, "output.dense", hidden);
    x = layerNorm(
      x.map((row, i) => row.map((val, j) => val + down[i][j])),
      get(weights, `${p}.output.LayerNorm.weight`),
      get(weights, `${p}.output.LayerNorm.bias`),
    );
  }
  return x;
}

/** The classification head on top of {@link bertForward}: tanh pooler over [CLS], then the classifier. */
export function bertClassify(weights: Weights, hiddenStates: number[][], numLabels: number): number[] {
  const hidden = hiddenStates[0].length;
  const pooled = linear(
    [hiddenStates[0]],
    get(weights, "pooler.dense.weight"),
    get(weights, "pooler.dense.bias"),
    hidden,
  )[0].map(Math.tanh);
  return linear([pooled], get(weights, "classifier.weight"), get(weights, "classifier.bias"), numLabels)[0];
}
