import { seededRandom } from "../../src/testing/model_files.js";
import { randomUnitVectors } from "../../src/testing/random_vectors.js";

export { randomUnitVectors, seededRandom };

/** A deterministic shuffle (Fisher–Yates over the seeded generator). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
