// The server's admission control: a bounded queue in front of the model. Requests over the bound are refused at once
// (429 + Retry-After) instead of growing memory; each request has a deadline; a request whose client went away
// leaves the queue; queued requests that can share a model call (the same rerank query, or any embedding texts) are
// merged into one.

/** Why a request was not admitted or not answered. */
export class AdmissionError extends Error {
  constructor(
    message: string,
    /** The HTTP status to answer with. */
    readonly status: 429 | 503,
    /** Seconds the client should wait before retrying. */
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/** Runs one merged job: a result per text, in order. */
export type JobRunner<T> = (key: string, texts: string[], signal: AbortSignal) => Promise<T[]>;

interface Job<T> {
  key: string;
  texts: string[];
  signal: AbortSignal;
  resolve(results: T[]): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
  settled: boolean;
  /** Called once the job is settled (answered, past its deadline, or its client gone). */
  onSettled?: () => void;
}

/** Options of {@link AdmissionQueue}. */
export interface AdmissionQueueParams {
  /** Requests waiting at most (beyond those running). */
  maxQueued: number;
  /** Model jobs running at once. */
  maxRunning: number;
  /** Most texts one merged job holds. */
  maxJobTexts: number;
  /** Milliseconds from admission to answer. */
  deadlineMs: number;
}

/** A bounded queue of model jobs with deadlines, cancellation and merging. */
export class AdmissionQueue<T> {
  private readonly waiting: Job<T>[] = [];
  private running = 0;
  /** Running mean of a job's milliseconds (for Retry-After). */
  private jobMs = 100;
  private closed = false;

  constructor(
    private readonly params: AdmissionQueueParams,
    private readonly run: JobRunner<T>,
  ) {}

  /** Requests waiting. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Model jobs running. */
  get active(): number {
    return this.running;
  }

  /** Seconds until a slot is likely free: the work ahead divided among the runners, at least 1. */
  retryAfterS(): number {
    const ahead = this.waiting.length + this.running;
    return Math.max(1, Math.ceil((ahead * this.jobMs) / this.params.maxRunning / 1000));
  }

  /**
   * Queues `texts` under `key` (jobs with the same key may share a model call). Rejects with an {@link AdmissionError}
   * at once when the queue is full or closed, or when the deadline passes; with the signal's reason when it aborts.
   */
  submit(key: string, texts: string[], signal: AbortSignal): Promise<T[]> {
    if (this.closed) return Promise.reject(new AdmissionError("The server is shutting down.", 503, 1));
    if (this.waiting.length >= this.params.maxQueued && this.running >= this.params.maxRunning) {
      return Promise.reject(
        new AdmissionError(
          `Model is overloaded: ${this.waiting.length} requests are waiting (the server's --max-queue). Retry after the Retry-After seconds.`,
          429,
          this.retryAfterS(),
        ),
      );
    }
    return new Promise<T[]>((resolve, reject) => {
      const job: Job<T> = {
        key,
        texts,
        signal,
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => {
          this.remove(job);
          this.settle(job, () =>
            reject(
              new AdmissionError(
                `No answer within the server's deadline (${this.params.deadlineMs} ms): it is overloaded.`,
                503,
                this.retryAfterS(),
              ),
            ),
          );
        }, this.params.deadlineMs),
      };
      signal.addEventListener(
        "abort",
        () => {
          this.remove(job);
          this.settle(job, () => reject(signal.reason));
        },
        { once: true },
      );
      this.waiting.push(job);
      this.pump();
    });
  }

  /** Refuses new jobs; resolves when the running and queued ones are done. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0 || this.waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private remove(job: Job<T>): void {
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  private settle(job: Job<T>, action: () => void): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    action();
    job.onSettled?.();
  }

  private pump(): void {
    while (this.running < this.params.maxRunning && this.waiting.length > 0) {
      const head = this.waiting.shift()!;
      const group = [head];
      let texts = head.texts.length;
      for (let i = 0; i < this.waiting.length;) {
        const next = this.waiting[i];
        if (next.key === head.key && texts + next.texts.length <= this.params.maxJobTexts) {
          group.push(next);
          texts += next.texts.length;
          this.waiting.splice(i, 1);
        } else i++;
      }
      void this.runGroup(group);
    }
  }

  private async runGroup(group: Job<T>[]): Promise<void> {
    this.running += 1;
    // The model call stops (between batches) once no request of the group waits for it any more.
    const controller = new AbortController();
    const gone = () => {
      if (group.every((job) => job.settled)) controller.abort(new Error("every request of this job left"));
    };
    for (const job of group) job.onSettled = gone;
    const started = performance.now();
    try {
      const results = await this.run(
        group[0].key,
        group.flatMap((job) => job.texts),
        controller.signal,
      );
      let at = 0;
      for (const job of group) {
        const mine = results.slice(at, at + job.texts.length);
        at += job.texts.length;
        this.settle(job, () => job.resolve(mine));
      }
      this.jobMs += 0.3 * (performance.now() - started - this.jobMs);
    } catch (error) {
      for (const job of group) this.settle(job, () => job.reject(error));
    } finally {
      this.running -= 1;
      this.pump();
    }
  }
}
