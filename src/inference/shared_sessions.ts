import fs from "node:fs";
import path from "node:path";

/**
 * One ONNX Runtime session per model file, shared by every component that loads that file: onnxruntime-node 1.14's
 * `session.release()` is a no-op (the native session is freed only when V8 collects its wrapper, which a loop that
 * allocates little JavaScript rarely makes it do), so a load per create → dispose grew the process by a whole model
 * each time. Used by the inference worker's host, the reranker on the caller's thread and the embeddings.
 */

/** The transformers.js settings that decide which file a model id names. */
export interface ModelFileSettings {
  localModelPath: string;
  allowLocalModels: boolean;
  useFSCache: boolean;
  cacheDir: string | null;
  /** A custom cache object (consulted when `useFSCache` is off) could serve any file: no key. */
  useCustomCache?: boolean;
}

/** The file a transformers.js load reads for `id` and `file`, and whether it is there. */
function resolvedFile(id: string, file: string, settings: ModelFileSettings): string | undefined {
  // As transformers.js's getModelFile looks for it on disk: its file cache (under the local path, then under the
  // request path), then the local model path. A hub id that is in none of them is downloaded by the load.
  const request = `${id.replace(/\/$/, "")}/${file}`;
  if (/^https?:\/\//.test(request)) return undefined;
  const local = `${settings.localModelPath.replace(/\/$/, "")}/${request.replace(/^\//, "")}`;
  // @huggingface/transformers 3 and 4 read an absolute path (no hub id) as it is.
  const candidates: string[] = path.isAbsolute(request) ? [request] : [];
  if (settings.useFSCache && settings.cacheDir) {
    candidates.push(path.join(settings.cacheDir, local), path.join(settings.cacheDir, request));
  }
  if (settings.allowLocalModels) candidates.push(local);
  return candidates.find((candidate) => {
    try {
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The identity of what a load of `id` would read: the kind of model (the class transformers.js builds around the
 * session) and for each of `files` its resolved path, device, inode, size and modification times, so a file replaced
 * at the same path gets a new key. `files[0]` is the ONNX file (its name says whether it is quantized): when it is not
 * on disk yet (a hub model to download), there is no key and the load is not shared. A missing later file (an
 * optional one) counts as absent. The session options are transformers.js's own and the same for every load (CPU
 * execution provider); the inference worker's priority is per worker, and each worker has its own sessions.
 */
export function modelFilesKey(
  kind: string,
  id: string,
  files: readonly string[],
  settings: ModelFileSettings,
): string | undefined {
  if (settings.useCustomCache && !settings.useFSCache) return undefined;
  const identities: string[] = [];
  for (const [index, file] of files.entries()) {
    const resolved = resolvedFile(id, file, settings);
    if (resolved === undefined) {
      if (index === 0) return undefined;
      identities.push(`${file}:absent`);
      continue;
    }
    const stat = fs.statSync(resolved, { bigint: true });
    identities.push(`${path.resolve(resolved)}:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`);
  }
  return JSON.stringify([kind, identities]);
}

/** One holder's use of a shared value: `release()` (idempotent) gives it back. */
export interface Lease<T> {
  readonly value: T;
  release(): void;
}

interface Entry<T> {
  loading: Promise<T>;
  holders: number;
}

/**
 * Values (sessions) by key, reference-counted. A value whose last holder releases it stays cached while idle, at
 * most `idleLimit` of them (least recently released dropped first), so the next load of the same file reuses it
 * instead of creating a session that ONNX Runtime 1.14 would not free; `drop` is called on a value that leaves the
 * cache, and on an unkeyed value when it is released.
 */
export class SharedSessions<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Keys of entries without holders, least recently released first. */
  private readonly idle = new Set<string>();

  constructor(
    private readonly idleLimit: number,
    private readonly drop: (value: T) => void,
  ) {}

  /** Sessions held: in use and idle. */
  get size(): number {
    return this.entries.size;
  }

  /** Sessions held without a holder. */
  get idleCount(): number {
    return this.idle.size;
  }

  /** The value for `key`, loaded with `load` unless it is held or idle; without a key, a value of its own. */
  async acquire(key: string | undefined, load: () => Promise<T>): Promise<Lease<T>> {
    if (key === undefined) {
      const value = await load();
      return this.lease(value, () => this.drop(value));
    }
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { loading: load(), holders: 0 };
      this.entries.set(key, entry);
    }
    entry.holders += 1;
    this.idle.delete(key);
    const held = entry;
    let value: T;
    try {
      value = await held.loading;
    } catch (error) {
      held.holders -= 1;
      if (this.entries.get(key) === held) this.entries.delete(key); // a failed load is retried by the next acquire
      throw error;
    }
    return this.lease(value, () => this.release(key, held));
  }

  private lease(value: T, release: () => void): Lease<T> {
    let released = false;
    return {
      value,
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    };
  }

  private release(key: string, entry: Entry<T>): void {
    entry.holders -= 1;
    if (entry.holders > 0 || this.entries.get(key) !== entry) return;
    this.idle.add(key);
    for (const oldest of this.idle) {
      if (this.idle.size <= this.idleLimit) break;
      this.idle.delete(oldest);
      const dropped = this.entries.get(oldest)!;
      this.entries.delete(oldest);
      void dropped.loading.then(this.drop, () => undefined);
    }
  }
}

/**
 * How many idle sessions each cache keeps (per inference worker, on the caller's thread, for embeddings). A create →
 * use → dispose loop on one model needs 1: with 0 (sharing only between live holders) the worker's RSS still grew 17%
 * over 200 reranker cycles (`npm run bench:soak -- --only rerankers`), with 2 it grew 2%. 2 also covers a pair of
 * models created and disposed together (a cascade's two rerankers). An idle session holds its memory until dropped.
 */
export const IDLE_SESSIONS = 2;
