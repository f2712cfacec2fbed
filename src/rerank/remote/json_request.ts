// One JSON call to a remote model server over Node's built-in fetch (undici): a timeout per attempt, retries with
// backoff on 429/5xx and failed connections (honouring Retry-After), cancellation by the caller's signal. The API key
// goes in the Authorization header only: it is never part of a message.
import { setTimeout as sleep } from "node:timers/promises";

import { API_KEY_ENV } from "./remote_reranker_params.js";
import { RemoteServiceError } from "../../errors.js";

/** Backoff before the first retry; it doubles each retry, with jitter. */
export const INITIAL_BACKOFF_MS = 250;
/** Longest wait before a retry: a `Retry-After` beyond it fails at once, naming it. */
export const MAX_RETRY_WAIT_MS = 30_000;

/** One JSON call. */
export interface JsonRequest {
  url: URL;
  method: "GET" | "POST";
  body?: unknown;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  signal?: AbortSignal;
  fetch: typeof globalThis.fetch;
}

/** An attempt's outcome that may be retried, and how long the server asked to wait. */
interface Retryable {
  reason: string;
  status?: number;
  waitMs?: number;
  cause?: unknown;
}

/** The URL as messages show it: origin and path (no query string, never credentials). */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/** What the server said in an error answer (TEI: `error`; Cohere: `message`), short. */
function serverMessage(text: string): string {
  let said = text;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    said = String(parsed?.message ?? parsed?.error ?? text);
  } catch {
    // not JSON: the text as it is
  }
  said = said.replace(/\s+/g, " ").trim();
  return said.length > 300 ? `${said.slice(0, 300)}…` : said;
}

function refusal(request: JsonRequest, status: number, said: string): RemoteServiceError {
  const where = `${request.method} ${shownUrl(request.url)}`;
  const detail = said ? `: ${said}` : "";
  if (status === 401 || status === 403) {
    return new RemoteServiceError(
      `${where} refused the request (${status}${detail}). ${request.apiKey ? "The API key was not accepted" : "No API key was sent"}: ` +
        `pass the server's key as apiKey or set ${API_KEY_ENV}.`,
      { status },
    );
  }
  if (status === 404 || status === 405) {
    return new RemoteServiceError(
      `${where} does not exist on this server (${status}${detail}). Check url (the server's base URL, without the ` +
        "API path) and api (tei, cohere-v1, cohere-v2).",
      { status },
    );
  }
  return new RemoteServiceError(
    `${where} refused the request (${status}${detail}). Check that the server serves a reranker and takes this many ` +
      "texts (lower maxBatchSize) of this length (lower maxTextChars).",
    { status },
  );
}

/**
 * Sends one JSON request and returns the parsed JSON answer. Retries (up to `maxRetries`) answers 408, 429 and 5xx
 * other than 501 and requests that could not connect or were cut off, waiting the server's `Retry-After` or an
 * exponential backoff; a request that times out is not retried. Rejects with the signal's reason when the caller
 * aborts, and with a {@link RemoteServiceError} otherwise.
 */
export async function requestJson(request: JsonRequest): Promise<unknown> {
  const { signal } = request;
  const where = `${request.method} ${shownUrl(request.url)}`;
  let last: Retryable | undefined;
  for (let attempt = 0; attempt <= request.maxRetries; attempt++) {
    if (last) {
      const backoff = INITIAL_BACKOFF_MS * 2 ** (attempt - 1) * (1 + Math.random() * 0.2);
      const wait = last.waitMs ?? backoff;
      if (wait > MAX_RETRY_WAIT_MS) {
        throw new RemoteServiceError(
          `${where} answered ${last.reason} and asked to retry after ${Math.ceil(wait / 1000)} s, more than the ` +
            `${MAX_RETRY_WAIT_MS / 1000} s this client waits. The server is overloaded: add capacity or retry later.`,
          { status: last.status, cause: last.cause },
        );
      }
      try {
        await sleep(wait, undefined, { signal });
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
    }
    signal?.throwIfAborted();
    const outcome = await attemptOnce(request, where);
    if (!("reason" in outcome)) return outcome.value;
    last = outcome;
  }
  const attempts = request.maxRetries + 1;
  throw new RemoteServiceError(
    `${where} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${last!.reason}. ` +
      (last!.status === undefined
        ? "Check that the server is running and that url is right."
        : "The server is overloaded or failing: retry later, add servers, or raise maxRetries."),
    { status: last!.status, cause: last!.cause },
  );
}

async function attemptOnce(request: JsonRequest, where: string): Promise<{ value: unknown } | Retryable> {
  const { signal, timeoutMs } = request;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const failed = (error: unknown): Retryable => {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new RemoteServiceError(
        `${where} did not answer within timeoutMs (${timeoutMs} ms). Raise timeoutMs, send fewer texts per request ` +
          "(maxBatchSize), or add servers.",
        { cause: error },
      );
    }
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    return {
      reason: `no answer (${cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))})`,
      cause: error,
    };
  };
  let response: Response;
  try {
    response = await request.fetch(request.url, {
      method: request.method,
      headers: {
        accept: "application/json",
        ...(request.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(request.apiKey ? { authorization: `Bearer ${request.apiKey}` } : {}),
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: combined,
    });
  } catch (error) {
    return failed(error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return failed(error); // cut off mid-answer (e.g. the server died)
  }
  if (response.ok) {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (error) {
      throw new RemoteServiceError(
        `${where} answered ${response.status} with a body that is not JSON (${serverMessage(text).slice(0, 80)}). ` +
          "Check that url points at a rerank server and api names its API.",
        { status: response.status, cause: error },
      );
    }
  }
  const said = serverMessage(text);
  if (retryableStatus(response.status)) {
    return {
      reason: `${response.status}${said ? ` (${said})` : ""}`,
      status: response.status,
      waitMs: retryAfterMs(response.headers.get("retry-after")),
    };
  }
  throw refusal(request, response.status, said);
}
