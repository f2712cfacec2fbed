/**
 * A progress bar with ETA on stderr. On a terminal it redraws one line; elsewhere (CI logs, pipes) it prints a
 * line every 10%. Never writes to stdout, so `--json` output stays clean.
 */
export class Progress {
  private readonly started = performance.now();
  private done = 0;
  private lastDecile = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet = false,
  ) {}

  /** Marks `count` more units done. */
  tick(count = 1): void {
    this.done = Math.min(this.total, this.done + count);
    if (this.quiet || this.total === 0) return;
    const fraction = this.done / this.total;
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : 0;
    const text = `${this.label} ${Math.round(fraction * 100)
      .toString()
      .padStart(3)}% ${this.done}/${this.total} ${elapsed.toFixed(0)}s elapsed, ETA ${eta.toFixed(0)}s`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r\x1b[2K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}`); // clear, then redraw
      if (this.done === this.total) process.stderr.write("\n");
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        process.stderr.write(`${text}\n`);
      }
    }
  }
}
