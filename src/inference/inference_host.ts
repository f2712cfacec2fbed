import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { SHARE_ENV, Worker } from "node:worker_threads";

import { ModelLoadError, TwoStageError } from "../errors.js";
import type {
  ModelDownloadProgress,
  ModelLocation,
  RuntimeLoadOptions,
  RuntimeSettings,
  TransformersRuntime,
} from "./runtime_types.js";
import { IDLE_SESSIONS, type Lease, SharedSessions, modelFilesKey } from "./shared_sessions.js";
import type { HostRequest, WireError, WireTensor, WorkerReply } from "./inference_protocol.js";

/** The worker's script, beside this module in the sources and in both builds. */
export const INFERENCE_THREAD_SCRIPT = new URL("./inference_thread.mjs", import.meta.url);

/** The transformers.js settings that decide where a model is read from; the worker gets the caller's at each load. */
const ENV_KEYS = [
  "localModelPath",
  "allowLocalModels",
  "allowRemoteModels",
  "remoteHost",
  "remotePathTemplate",
  "cacheDir",
  "useFS",
  "useFSCache",
] as const satisfies readonly (keyof RuntimeSettings)[];

type Settings = Pick<RuntimeSettings, (typeof ENV_KEYS)[number]>;

function settingsSnapshot(env: RuntimeSettings): Settings {
  return Object.fromEntries(ENV_KEYS.map((key) => [key, env[key]])) as Settings;
}

/** A model loaded in the worker: this holder's handle on its session, and what the reranker reads off the model. */
export interface HostedModel {
  /** This load's own handle: released once, after which runs on it are refused (other holders go on). */
  handle: number;
  config: Record<string, unknown>;
  inputNames?: string[];
}

/** A session in the worker, as loaded once and shared by every holder of the same model file. */
interface WorkerSession {
  session: number;
  config: Record<string, unknown>;
  inputNames?: string[];
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

type Logits = { data: Float32Array; dims: number[] };

/** An Error rebuilt from the worker's, as the `cause` of ours. */
function fromWire(error: WireError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

/**
 * A worker thread that holds the ONNX Runtime sessions of cross-encoders and runs their batches, so `session.run`
 * (synchronous in ONNX Runtime 1.14) never blocks the caller's event loop. It keeps the process alive only while a
 * load or a batch is in flight. It is never terminated, and one that stops is never replaced: onnxruntime-node 1.14
 * corrupts the heap when a worker that loaded it ends and another loads it again (microsoft/onnxruntime#13086), so
 * releasing a model drops its session instead, and after a failure every request fails with the reason.
 *
 * The worker holds one session per model file (keyed by its resolved path and identity): every load of that file
 * shares it, each through a handle of its own, and a session whose last handle is released stays for the next load
 * (at most {@link IDLE_SESSIONS} idle ones). ONNX Runtime 1.14 frees a released session only when the worker's V8
 * collects it, so a session per load grew the process with every create → dispose of a reranker.
 */
export class InferenceHost {
  private readonly worker: Worker;
  private readonly loads = new Map<number, Waiter<WorkerSession>>();
  /** Download progress listeners of loads in flight. */
  private readonly progress = new Map<number, (event: ModelDownloadProgress) => void>();
  private readonly calls = new Map<number, Waiter<Logits>>();
  private readonly sessions = new SharedSessions<WorkerSession>(IDLE_SESSIONS, ({ session }) =>
    this.dropSession(session),
  );
  /** Live handles and the lease on the session each one holds. */
  private readonly handles = new Map<number, Lease<WorkerSession>>();
  private nextSession = 0;
  private nextHandle = 0;
  private nextCall = 0;
  /** Why the worker stopped, once it has: every later request fails with it. */
  private failure?: TwoStageError;

  /**
   * @param nice how much lower the inference threads' CPU priority is on Linux (0 keeps the process's)
   * @param script the worker's script (tests pass stand-ins)
   */
  constructor(nice: number, script: URL = INFERENCE_THREAD_SCRIPT) {
    // execArgv: the caller's flags (a loader such as tsx, --inspect) are for its own thread, not this plain script.
    // SHARE_ENV: the worker sees process.env as it is at each download (HF_TOKEN set later included).
    this.worker = new Worker(script, { workerData: { nice }, execArgv: [], env: SHARE_ENV });
    this.worker.on("message", (reply: WorkerReply) => this.receive(reply));
    this.worker.on("messageerror", (error) => this.stop(`could not read a reply: ${error.message}`, error));
    this.worker.on("error", (error) => this.stop(`failed: ${error.message}`, error));
    this.worker.on("exit", (code) => this.stop(`exited with code ${code}`));
    this.worker.unref(); // after the listeners: adding the first 'message' listener refs the port again
  }

  /** False once the worker has stopped. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  private receive(reply: WorkerReply): void {
    if (reply.type === "progress") {
      this.progress.get(reply.session)?.(reply.event as unknown as ModelDownloadProgress);
      return;
    }
    if (reply.type === "loaded" || reply.type === "loadError") {
      const waiter = this.loads.get(reply.session);
      this.loads.delete(reply.session);
      this.progress.delete(reply.session);
      if (reply.type === "loaded") {
        waiter?.resolve({ session: reply.session, config: reply.config, inputNames: reply.inputNames });
      } else {
        waiter?.reject(new ModelLoadError(reply.error.message, { cause: fromWire(reply.error) }));
      }
    } else {
      const waiter = this.calls.get(reply.call);
      this.calls.delete(reply.call);
      if (reply.type === "result") waiter?.resolve(reply);
      else waiter?.reject(new TwoStageError(reply.error.message, { cause: fromWire(reply.error) }));
    }
    this.updateRef();
  }

  private stop(why: string, cause?: Error): void {
    this.failure ??= new TwoStageError(
      `The inference worker ${why}. onnxruntime-node 1.14 cannot be loaded again by a new worker in this process: ` +
        "restart the process, or pass inferenceWorker: false to run rerankers on the calling thread.",
      { cause },
    );
    for (const waiter of [...this.loads.values(), ...this.calls.values()]) waiter.reject(this.failure);
    this.loads.clear();
    this.calls.clear();
    this.updateRef();
  }

  /** Keeps the process alive exactly while an answer is owed. */
  private updateRef(): void {
    if (this.loads.size + this.calls.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private request<T>(waiters: Map<number, Waiter<T>>, key: number, request: HostRequest): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      waiters.set(key, { resolve, reject });
      try {
        this.worker.postMessage(request);
      } catch (error) {
        waiters.delete(key); // nothing was sent: nothing is owed
        reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.updateRef();
    });
  }

  /**
   * Loads a sequence-classification model into the worker with `runtime` (`from_pretrained(id, options)` there), or
   * shares the session already loaded from the same file by the same runtime; returns a handle of its own.
   */
  async load(
    runtime: Pick<TransformersRuntime, "name" | "env" | "pretrained">,
    location: ModelLocation,
    options: RuntimeLoadOptions,
  ): Promise<HostedModel> {
    if (this.failure) throw this.failure;
    const settings = settingsSnapshot(runtime.env);
    const { id, options: pretrainedOptions, cacheDir } = runtime.pretrained(location, options);
    const onProgress = options.onProgress;
    const file = `onnx/${options.quantized ? "model_quantized" : "model"}.onnx`;
    const key = modelFilesKey(`${runtime.name}:sequence-classification`, id, [file, "config.json"], {
      ...settings,
      cacheDir: cacheDir ?? settings.cacheDir,
    });
    const lease = await this.sessions.acquire(key, () => {
      const session = this.nextSession++;
      if (onProgress) this.progress.set(session, onProgress);
      return this.request(this.loads, session, {
        type: "load",
        session,
        runtime: runtime.name,
        id,
        options: pretrainedOptions,
        progress: onProgress !== undefined,
        settings,
      });
    });
    const handle = this.nextHandle++;
    this.handles.set(handle, lease);
    return { handle, config: lease.value.config, inputNames: lease.value.inputNames };
  }

  /** Runs a loaded model on one batch; resolves with its logits. A released handle is refused. */
  run(handle: number, inputs: Record<string, WireTensor>): Promise<Logits> {
    const lease = this.handles.get(handle);
    if (!lease) return Promise.reject(new TwoStageError(`session handle ${handle} was released`));
    const call = this.nextCall++;
    return this.request(this.calls, call, { type: "run", session: lease.value.session, call, inputs });
  }

  /** Releases a handle; its session stays while other handles hold it, then idles for the next load of its file. */
  release(handle: number): void {
    const lease = this.handles.get(handle);
    this.handles.delete(handle);
    lease?.release();
  }

  /** Sessions the worker holds (in use and idle) and live handles: for tests and diagnostics. */
  sessionCounts(): { sessions: number; idle: number; handles: number } {
    return { sessions: this.sessions.size, idle: this.sessions.idleCount, handles: this.handles.size };
  }

  /** Drops a session in the worker. */
  private dropSession(session: number): void {
    if (this.alive) this.worker.postMessage({ type: "release", session } satisfies HostRequest);
  }
}

/**
 * The process's inference hosts, by priority: shared by every copy of this module in the process (the ES module and
 * CommonJS builds both loaded), so the process holds one worker per `inferenceNice`.
 */
const HOSTS = Symbol.for("two-stage-retriever.inference-hosts.v1");

function hosts(): Map<number, InferenceHost> {
  const scope = globalThis as { [HOSTS]?: Map<number, InferenceHost> };
  scope[HOSTS] ??= new Map();
  return scope[HOSTS];
}

/**
 * The process's inference host for a priority, started on first use. Before starting it, the caller's thread checks
 * that the worker's script is there (a bundler that did not copy it gets a clear error) with an asynchronous read,
 * which also starts libuv's thread pool from this thread: threads inherit the priority of the thread that starts
 * them, and the pool must not inherit the worker's lowered one.
 */
export async function inferenceHost(nice: number): Promise<InferenceHost> {
  const known = hosts().get(nice);
  if (known) return known;
  const script = fileURLToPath(INFERENCE_THREAD_SCRIPT);
  try {
    await fs.promises.access(script, fs.constants.R_OK);
  } catch (error) {
    throw new ModelLoadError(
      `The inference worker's script ${script} is missing (a bundle that did not copy it?). Ship ` +
        "two-stage-retriever's dist/inference/inference_thread.mjs beside its other files (mark the package external in " +
        "the bundler), or pass inferenceWorker: false to run rerankers on the calling thread.",
      { cause: error },
    );
  }
  let host = hosts().get(nice); // another call may have started one while this one waited
  if (!host) {
    host = new InferenceHost(nice);
    hosts().set(nice, host);
  }
  return host;
}
