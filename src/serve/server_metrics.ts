// The server's Prometheus metrics (text exposition format 0.0.4), counted where each thing happens.

/** What `GET /metrics` reports. */
export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly seconds = new Map<string, { sum: number; count: number }>();
  /** (query, text) pairs scored and texts embedded. */
  pairs = 0;
  embedded = 0;

  /** Counts one answered request of `route` with `status`, and its duration. */
  observe(route: string, status: number, ms: number): void {
    const key = `route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const time = this.seconds.get(route) ?? { sum: 0, count: 0 };
    time.sum += ms / 1000;
    time.count += 1;
    this.seconds.set(route, time);
  }

  /** The exposition text, with the queue's current state. */
  render(queue: { queued: number; active: number }): string {
    const lines = [
      "# HELP two_stage_requests_total Requests answered, by route and status.",
      "# TYPE two_stage_requests_total counter",
      ...[...this.requests].map(([labels, n]) => `two_stage_requests_total{${labels}} ${n}`),
      "# HELP two_stage_request_duration_seconds Time from request to answer, by route.",
      "# TYPE two_stage_request_duration_seconds summary",
      ...[...this.seconds].flatMap(([route, { sum, count }]) => [
        `two_stage_request_duration_seconds_sum{route="${route}"} ${sum}`,
        `two_stage_request_duration_seconds_count{route="${route}"} ${count}`,
      ]),
      "# HELP two_stage_pairs_scored_total (query, text) pairs the reranker scored.",
      "# TYPE two_stage_pairs_scored_total counter",
      `two_stage_pairs_scored_total ${this.pairs}`,
      "# HELP two_stage_texts_embedded_total Texts the embedding model embedded.",
      "# TYPE two_stage_texts_embedded_total counter",
      `two_stage_texts_embedded_total ${this.embedded}`,
      "# HELP two_stage_queue_waiting Requests waiting for the model.",
      "# TYPE two_stage_queue_waiting gauge",
      `two_stage_queue_waiting ${queue.queued}`,
      "# HELP two_stage_queue_running Model jobs running.",
      "# TYPE two_stage_queue_running gauge",
      `two_stage_queue_running ${queue.active}`,
    ];
    return `${lines.join("\n")}\n`;
  }
}
