// @ts-check
// The body of the inference worker (see inference_host.ts): it holds the ONNX Runtime sessions of cross-encoders
// and runs their batches. ONNX Runtime 1.14 runs a session synchronously on the thread that calls it, which would
// hold the main event loop for a whole batch (about a second for 32 MiniLM-L6 pairs of 256 tokens on 2 cores); here
// it holds only this thread. Plain JavaScript because a worker needs a file Node.js runs as it is, from the sources
// (jest, tsx) and from both builds in dist. Messages: inference_protocol.ts.
import os from "node:os";
import { parentPort, workerData } from "node:worker_threads";

/** @typedef {import("./inference_protocol.js").HostRequest} HostRequest */
/** @typedef {import("./inference_protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("./inference_protocol.js").WireError} WireError */

if (!parentPort) throw new Error("inference_thread.mjs runs as a worker thread, started by inference_host.ts");
const port = parentPort;

/** @param {WorkerReply} reply @param {Transferable[]} [transfer] */
function reply(reply, transfer = []) {
  port.postMessage(reply, transfer);
}

/** @param {unknown} error @returns {WireError} */
function wireError(error) {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: "Error", message: String(error) };
}

// Lower this thread's CPU priority before ONNX Runtime starts any session's thread pool: the pool's threads inherit
// it, so when a model keeps every core busy the thread running the event loop is still scheduled at once. On Linux
// priority 0 names the calling thread only; elsewhere it would name the whole process, so nothing is changed there.
const nice = Number(workerData?.nice ?? 0);
if (nice > 0 && process.platform === "linux") {
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + nice));
  } catch {
    // not permitted: run at the process's priority
  }
}

/**
 * Loaded models by session number, each with the Tensor class of the runtime that loaded it.
 * @type {Map<number, { model: any, Tensor: any }>}
 */
const sessions = new Map();
/** Loads run one at a time: each applies the caller's settings to the runtime's one `env`. */
let loading = Promise.resolve();

/** @param {Extract<HostRequest, { type: "load" }>} request */
async function load({ session, runtime, id, options, progress, settings }) {
  try {
    // The package the caller's runtime adapter chose (src/models/transformers_runtime.ts names them; this plain
    // script cannot import that TypeScript module from the sources). The options come from it ready to pass on.
    const { AutoModelForSequenceClassification, Tensor, env } = await import(runtime);
    Object.assign(env, settings);
    const progress_callback = progress
      ? (/** @type {Record<string, unknown>} */ event) => reply({ type: "progress", session, event: { ...event } })
      : undefined;
    const model = await AutoModelForSequenceClassification.from_pretrained(id, { ...options, progress_callback });
    // 2.17 keeps its session as `session`, 3 and 4 by name in `sessions`.
    const inputNames = (model.session ?? model.sessions?.model)?.inputNames;
    reply({
      type: "loaded",
      session,
      config: JSON.parse(JSON.stringify(model.config ?? {})),
      inputNames: Array.isArray(inputNames) ? [...inputNames] : undefined,
    });
    sessions.set(session, { model, Tensor });
  } catch (error) {
    reply({ type: "loadError", session, error: wireError(error) });
  }
}

/** @param {Extract<HostRequest, { type: "run" }>} request */
async function run({ session, call, inputs }) {
  try {
    const loaded = sessions.get(session);
    if (!loaded) throw new Error(`session ${session} was released`);
    const { model, Tensor } = loaded;
    /** @type {Record<string, any>} */
    const feeds = {};
    for (const [name, input] of Object.entries(inputs)) feeds[name] = new Tensor(input.type, input.data, input.dims);
    const { logits } = await model(feeds);
    /** @type {Float32Array} */
    const data = logits.data;
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    reply({ type: "result", call, data, dims: logits.dims }, whole ? [data.buffer] : []);
  } catch (error) {
    reply({ type: "runError", call, error: wireError(error) });
  }
}

/** @param {Extract<HostRequest, { type: "release" }>} request */
async function release({ session }) {
  const loaded = sessions.get(session);
  sessions.delete(session);
  await loaded?.model.dispose?.().catch(() => undefined);
  // ONNX Runtime 1.14's session.release is a no-op: the native session is freed when this isolate collects it.
  // With --expose-gc (the process's flag), collect now.
  /** @type {{ gc?: () => void }} */ (globalThis).gc?.();
}

port.on("message", (/** @type {HostRequest} */ request) => {
  if (request.type === "load") loading = loading.then(() => load(request));
  else if (request.type === "run") void run(request);
  else if (request.type === "release") void release(request);
});
