import { seededRandom } from "../../src/testing/model_files.js";

export { seededRandom };

/** `count` random unit vectors of dimension `dim`, row-major. */
export function randomUnitVectors(count: number, dim: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(count * dim);
  for (let row = 0; row < count; row++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      // Sum of uniforms: cheap, roughly Gaussian, so directions are spread over the sphere.
      const value = random() + random() + random() - 1.5;
      out[row * dim + j] = value;
      norm += value * value;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[row * dim + j] *= scale;
  }
  return out;
}
