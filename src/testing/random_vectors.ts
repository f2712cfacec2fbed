import { seededRandom } from "./model_files.js";

/**
 * `count` deterministic random unit vectors of dimension `dim`, row-major: for FAISS tests and benchmarks.
 * Components are centred sums of three uniforms (roughly Gaussian), so directions spread over the sphere.
 */
export function randomUnitVectors(count: number, dim: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(count * dim);
  for (let row = 0; row < count; row++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const value = random() + random() + random() - 1.5;
      out[row * dim + j] = value;
      norm += value * value;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[row * dim + j] *= scale;
  }
  return out;
}
