/** mulberry32: a small seeded PRNG so tests are deterministic. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
