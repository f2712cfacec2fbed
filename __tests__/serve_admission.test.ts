// The server's admission control and key check, without a server: merging of waiting jobs, 429 when full, the
// deadline, a client that leaves, and the Bearer check.
import { AdmissionError, AdmissionQueue } from "../src/serve/admission_queue.js";
import { bearerCheck } from "../src/serve/api_key.js";

/** A runner that records each job and finishes it when told. */
function gatedRunner() {
  const runs: { key: string; texts: string[]; signal: AbortSignal; finish(): void }[] = [];
  const run = (key: string, texts: string[], signal: AbortSignal) =>
    new Promise<number[]>((resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason));
      runs.push({ key, texts, signal, finish: () => resolve(texts.map((t) => t.length)) });
    });
  return { runs, run };
}

const never = () => new AbortController().signal;

describe("AdmissionQueue", () => {
  test("waiting jobs with the same key share one model call; others wait their turn", async () => {
    const { runs, run } = gatedRunner();
    const queue = new AdmissionQueue<number>({ maxQueued: 8, maxRunning: 1, maxJobTexts: 10, deadlineMs: 5000 }, run);
    const first = queue.submit("rerank:a", ["x"], never());
    const second = queue.submit("rerank:b", ["yy"], never());
    const third = queue.submit("rerank:b", ["zzz", "w"], never());
    expect(runs.map((r) => r.texts)).toEqual([["x"]]);
    expect([queue.active, queue.queued]).toEqual([1, 2]);
    runs[0].finish();
    expect(await first).toEqual([1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.map((r) => r.texts)).toEqual([["x"], ["yy", "zzz", "w"]]); // merged: one call for query b
    runs[1].finish();
    expect([await second, await third]).toEqual([[2], [3, 1]]);
    await queue.close();
  });

  test("a full queue refuses at once with 429 and a Retry-After; a closed one with 503", async () => {
    const { runs, run } = gatedRunner();
    const queue = new AdmissionQueue<number>({ maxQueued: 1, maxRunning: 1, maxJobTexts: 10, deadlineMs: 5000 }, run);
    const running = queue.submit("k1", ["a"], never());
    const waiting = queue.submit("k2", ["b"], never());
    const refused = await queue.submit("k3", ["c"], never()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdmissionError);
    expect((refused as AdmissionError).status).toBe(429);
    expect((refused as AdmissionError).retryAfterS).toBeGreaterThanOrEqual(1);
    const closing = queue.close();
    await expect(queue.submit("k4", ["d"], never())).rejects.toMatchObject({ status: 503 });
    runs[0].finish();
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    runs[1].finish();
    await waiting;
    await closing; // finishes what was admitted
  });

  test("past its deadline a request is answered 503 and its model call stops; a client that leaves frees its slot", async () => {
    const { runs, run } = gatedRunner();
    const queue = new AdmissionQueue<number>({ maxQueued: 4, maxRunning: 1, maxJobTexts: 10, deadlineMs: 50 }, run);
    const late = queue.submit("k", ["a"], never());
    await expect(late).rejects.toMatchObject({ status: 503 });
    expect(runs[0].signal.aborted).toBe(true); // nobody waits for it any more: the model stops between batches
    const leaving = new AbortController();
    const gone = queue.submit("k2", ["b"], leaving.signal);
    await new Promise((resolve) => setImmediate(resolve));
    leaving.abort(new Error("client closed"));
    await expect(gone).rejects.toThrow("client closed");
    expect(runs[1].signal.aborted).toBe(true);
    await queue.close();
  });
});

describe("bearerCheck", () => {
  test("accepts exactly `Bearer <key>`", () => {
    const allowed = bearerCheck("s3cret-key-123");
    expect(allowed("Bearer s3cret-key-123")).toBe(true);
    expect(allowed("bearer s3cret-key-123")).toBe(true);
    for (const header of [
      undefined,
      "",
      "s3cret-key-123",
      "Bearer s3cret-key-12",
      "Bearer s3cret-key-1234",
      "Basic x",
    ]) {
      expect(allowed(header)).toBe(false);
    }
  });
});
