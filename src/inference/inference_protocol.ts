/**
 * The messages between the inference host (the caller's thread, `inference_host.ts`) and the inference worker
 * (`inference_thread.mjs`, which names these types in its JSDoc).
 */

/** One tensor as it crosses to the worker (structured-cloned: the caller keeps its arrays). */
export interface WireTensor {
  type: string;
  data: ArrayLike<number | bigint>;
  dims: readonly number[];
}

/** What the worker is asked to do. */
export type HostRequest =
  | {
      type: "load";
      session: number;
      /** The transformers.js package to load the model with (the caller's choice: transformers_runtime.ts). */
      runtime: string;
      /** `from_pretrained` id: a hub id, or a local folder's name (its parent is the options' `cache_dir`). */
      id: string;
      /** `from_pretrained` options, as the runtime takes them (transformers_runtime.ts `pretrained`). */
      options: Record<string, unknown>;
      /** Send the runtime's download progress events back (`progress` replies). */
      progress: boolean;
      /** The caller's transformers.js settings that decide where the model is read from. */
      settings: Record<string, unknown>;
    }
  | { type: "run"; session: number; call: number; inputs: Record<string, WireTensor> }
  | { type: "release"; session: number };

/** An error as it crosses back (Error objects lose their class on the way). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** What the worker answers. */
export type WorkerReply =
  | { type: "loaded"; session: number; config: Record<string, unknown>; inputNames?: string[] }
  | { type: "loadError"; session: number; error: WireError }
  | { type: "progress"; session: number; event: Record<string, unknown> }
  | { type: "result"; call: number; data: Float32Array; dims: number[] }
  | { type: "runError"; call: number; error: WireError };
