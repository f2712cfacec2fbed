// How `npm run bench:peers` measures and reports: both sides of a comparison run in the same process tree, round by
// round, alternating which side goes first, so a burst of load from elsewhere hits both; the figure of each side is
// the median of its rounds, the ratio is ours/peer of those medians (a time: below 1 means ours is faster), and the
// spread of the per-round ratios is printed beside it as this run's noise.
import { median } from "./support.js";

/** One side of a comparison: what it is, the threads it may use, and one measured value per round. */
export interface Side {
  label: string;
  threads: string;
  values: number[];
}

/** One row of the closing table. */
export interface Comparison {
  section: string;
  what: string;
  /** Unit of the values (a time: lower is better). */
  unit: string;
  ours: Side;
  peer: Side;
  /** The ratio (ours/peer) that meets the target, or undefined for a row that only informs. */
  target?: number;
  /** Extra absolute figures for the line (e.g. docs/s, QPS). */
  extra?: string;
  /** A second condition of the target besides the ratio (e.g. equal quality); the target is met only if it holds. */
  also?: { holds: boolean; what: string };
}

export const rows: Comparison[] = [];

/**
 * Runs `rounds` rounds of both sides, alternating the order (ours first on even rounds); each function returns
 * the value it measured for that round (a time in the comparison's unit, measured by that side itself).
 */
export async function alternate(
  rounds: number,
  ours: (round: number) => Promise<number>,
  peer: (round: number) => Promise<number>,
): Promise<{ ours: number[]; peer: number[] }> {
  const out = { ours: [] as number[], peer: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.ours.push(await ours(r));
      out.peer.push(await peer(r));
    } else {
      out.peer.push(await peer(r));
      out.ours.push(await ours(r));
    }
  }
  return out;
}

/** Ratio of the medians, ours/peer. */
export function ratioOf(c: Comparison): number {
  return median(c.ours.values) / median(c.peer.values);
}

/** The per-round ratios' 25th and 75th percentile (a pair of rounds ran back to back, so it shares the noise). */
export function noiseOf(c: Comparison): { low: number; high: number } {
  const n = Math.min(c.ours.values.length, c.peer.values.length);
  const ratios = Array.from({ length: n }, (_, i) => c.ours.values[i] / c.peer.values[i]).sort((a, b) => a - b);
  const at = (q: number) => ratios[Math.min(n - 1, Math.floor(q * n))];
  return { low: at(0.25), high: at(0.75) };
}

function fmt(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function verdict(c: Comparison): string {
  if (c.target === undefined) return "(informative)";
  if (c.also && !c.also.holds)
    return `target ≤ ${c.target.toFixed(2)} and ${c.also.what}: MISSED (${c.also.what} does not hold)`;
  const and = c.also ? ` and ${c.also.what}` : "";
  const ratio = ratioOf(c);
  const { low } = noiseOf(c);
  if (ratio <= c.target) return `target ≤ ${c.target.toFixed(2)}${and}: met`;
  // A quarter of the rounds or more met it: the miss is inside this run's noise, and still reported as a miss.
  if (low <= c.target) return `target ≤ ${c.target.toFixed(2)}${and}: MISSED (within this run's noise)`;
  return `target ≤ ${c.target.toFixed(2)}${and}: MISSED`;
}

/** Records a comparison and prints its one line: `ratio <ours/peer>` with the absolute figures. */
export function report(c: Comparison): void {
  rows.push(c);
  const { low, high } = noiseOf(c);
  console.log(
    `ratio ${ratioOf(c).toFixed(3)} <ours/peer> ${c.section}: ${c.what} | ours ${fmt(median(c.ours.values))} ${c.unit} ` +
      `(${c.ours.label}; ${c.ours.threads}) | peer ${fmt(median(c.peer.values))} ${c.unit} (${c.peer.label}; ${c.peer.threads}) | ` +
      `${c.ours.values.length} rounds, per-round ratio IQR ${low.toFixed(2)}–${high.toFixed(2)}` +
      `${c.extra ? ` | ${c.extra}` : ""} | ${verdict(c)}`,
  );
}

/** The closing Markdown table, ready to paste into docs/peers.md. */
export function table(): string {
  const lines = [
    "| comparison | ours | peer | ratio ours/peer | per-round IQR | target |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of rows) {
    const { low, high } = noiseOf(c);
    lines.push(
      `| ${c.section}: ${c.what} | ${fmt(median(c.ours.values))} ${c.unit} | ${fmt(median(c.peer.values))} ${c.unit} (${c.peer.label}) | ` +
        `**${ratioOf(c).toFixed(2)}** | ${low.toFixed(2)}–${high.toFixed(2)} | ${verdict(c)} |`,
    );
  }
  return lines.join("\n");
}
