import { type ModelLocation, transformersRuntime } from "../../src/models/transformers_runtime.js";

// The transformers.js runtime the tests run on: `@xenova/transformers` by default, `@huggingface/transformers` with
// TWO_STAGE_TRANSFORMERS_RUNTIME=@huggingface/transformers (CI runs the model suites once with each). Tests load
// models through the package's own adapter, so every call shape the library uses is exercised on both runtimes.
export const runtime = await transformersRuntime();

/** A local model folder as the adapter takes it. */
export function local(dir: string): ModelLocation {
  return { id: dir, dir };
}

/** Options of a local, offline load. */
export function offline(quantized = true): { quantized: boolean; localFilesOnly: true } {
  return { quantized, localFilesOnly: true };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the raw API of whichever runtime runs */
/** The parts of a runtime's own module that tests call directly (reference outputs, injected pipelines). */
export interface RawTransformers {
  pipeline(task: string, id: string, options?: object): Promise<any>;
  AutoTokenizer: { from_pretrained(id: string, options?: object): Promise<any> };
  AutoModelForSequenceClassification: { from_pretrained(id: string, options?: object): Promise<any> };
  Tensor: new (type: string, data: unknown, dims: number[]) => any;
  env: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The running runtime's own module. */
export const transformers = (await import(runtime.name)) as RawTransformers;

/** `from_pretrained` arguments for a local folder in the running runtime: its id and options. */
export function pretrained(dir: string, quantized = true): [string, Record<string, unknown>] {
  const { id, options } = runtime.pretrained(local(dir), offline(quantized));
  return [id, options];
}
