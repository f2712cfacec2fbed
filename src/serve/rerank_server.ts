// `two-stage serve`: our reranker (and embedder) behind Text Embeddings Inference's routes (`POST /rerank`,
// `POST /embed`, `GET /info`, `GET /health`, `GET /metrics`) and Cohere's (`POST /v1/rerank`, `POST /v2/rerank`),
// on fastify (an optional peer dependency, imported on start). The models run as in-process stage 2 does (the
// reranker in the inference worker); an AdmissionQueue bounds the work.
import { randomUUID } from "node:crypto";

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { TransformersEmbeddings } from "../models/transformers_embeddings.js";
import { importOptional } from "../optional_import.js";
import type {
  CohereRerankResponse,
  CohereV1RerankRequest,
  CohereV2RerankRequest,
} from "../rerank/remote/cohere_api.js";
import { API_KEY_ENV } from "../rerank/remote/remote_reranker_params.js";
import type { TeiInfo, TeiRank, TeiRerankRequest } from "../rerank/remote/tei_api.js";
import { CrossEncoderCompressor } from "../rerank/cross_encoder_compressor.js";
import { AdmissionError, AdmissionQueue } from "./admission_queue.js";
import { bearerCheck } from "./api_key.js";
import { closeGracefully, listeningAddress } from "./listening_app.js";
import { packageVersion } from "./package_version.js";
import { type RerankServerParams, checkRerankServerParams } from "./rerank_server_params.js";
import { ServerMetrics } from "./server_metrics.js";
import { COHERE_V1_BODY, COHERE_V2_BODY, TEI_EMBED_BODY, TEI_RERANK_BODY } from "./wire_schemas.js";

export type { RerankServerParams } from "./rerank_server_params.js";

/** A running server. */
export interface RerankServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /** The reranker it serves (raw logits: `activation: "none"`). */
  readonly reranker: CrossEncoderCompressor;
  /**
   * Graceful shutdown: stops listening and answers 503 to new requests, finishes the requests in flight and the
   * queued ones, then releases the models.
   */
  close(): Promise<void>;
}

/** TEI's error body; Cohere's clients read `message`, so both are sent. */
interface ErrorBody {
  error: string;
  error_type: "Unhealthy" | "Backend" | "Overloaded" | "Validation" | "Tokenizer" | "Unauthorized";
  message: string;
}

function errorBody(error_type: ErrorBody["error_type"], error: string): ErrorBody {
  return { error, error_type, message: error };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** What one queued job computes per text: a raw logit (rerank) or a vector (embed). */
type JobResult = number | number[];

const RERANK_KEY = "rerank:";
const EMBED_KEY = "embed";

/**
 * Starts `two-stage serve` in this process: loads the reranker (and the embedding model, when given) before it
 * listens, so `/health` answers 200 only once it can serve. Needs `fastify` (`npm install fastify`).
 *
 * @example
 * ```ts
 * import { startRerankServer } from "two-stage-retriever/serve";
 * const server = await startRerankServer({ reranker: { model: "Xenova/ms-marco-MiniLM-L-6-v2" }, port: 8080 });
 * server.url; // "http://127.0.0.1:8080"
 * // curl -s 127.0.0.1:8080/rerank -H 'content-type: application/json' -d '{"query":"tides","texts":["The moon…"]}'
 * // [{"index":0,"score":0.98}]
 * await server.close();
 * ```
 */
export async function startRerankServer(params: RerankServerParams = {}): Promise<RerankServer> {
  checkRerankServerParams(params);
  const { default: fastify } = await importOptional<typeof import("fastify")>(
    "fastify",
    "two-stage serve (two-stage-retriever/serve)",
  );
  const host = params.host ?? "127.0.0.1";
  const port = params.port ?? 8080;
  const apiKey = params.apiKey ?? (process.env[API_KEY_ENV] || undefined);
  if (apiKey !== undefined) checkRerankServerParams({ apiKey });
  const maxTexts = params.maxTexts ?? 1000;
  const maxQueue = params.maxQueue ?? 64;
  const maxConcurrent = params.maxConcurrent ?? 2;
  const requestTimeoutMs = params.requestTimeoutMs ?? 30_000;

  const reranker = new CrossEncoderCompressor({ ...params.reranker, activation: "none" });
  const embeddings = params.embeddings ? new TransformersEmbeddings(params.embeddings) : undefined;
  const release = () => Promise.all([reranker.dispose(), embeddings?.dispose()]);
  try {
    await reranker.score("warm-up", ["warm-up"]); // load now: errors surface at start, /health means ready
    if (embeddings) await embeddings.embedQuery("warm-up");
  } catch (error) {
    await release();
    throw error;
  }

  const metrics = new ServerMetrics();
  const queue = new AdmissionQueue<JobResult>(
    { maxQueued: maxQueue, maxRunning: maxConcurrent, maxJobTexts: maxTexts, deadlineMs: requestTimeoutMs },
    async (key, texts, signal) => {
      if (key === EMBED_KEY) {
        signal.throwIfAborted();
        const vectors = await embeddings!.embedDocuments(texts);
        metrics.embedded += texts.length;
        return vectors;
      }
      const scores = await reranker.score(key.slice(RERANK_KEY.length), texts, { signal });
      metrics.pairs += texts.length;
      return scores;
    },
  );

  const app: FastifyInstance = fastify({
    bodyLimit: params.maxBodyBytes ?? 8 * 1024 * 1024,
    logger: false,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  const allowed = apiKey === undefined ? undefined : bearerCheck(apiKey);
  const started = new WeakMap<FastifyRequest, number>();

  app.addHook("onRequest", async (request, reply) => {
    started.set(request, performance.now());
    if (allowed && request.url !== "/health" && !allowed(request.headers.authorization)) {
      reply.code(401).header("www-authenticate", "Bearer");
      return reply.send(
        errorBody("Unauthorized", "Missing or wrong API key: send Authorization: Bearer <the server's key>."),
      );
    }
    return undefined;
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unknown";
    metrics.observe(route, reply.statusCode, performance.now() - (started.get(request) ?? performance.now()));
  });
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, _request, reply) => {
    if (error.validation) return reply.code(422).send(errorBody("Validation", `Invalid request: ${error.message}.`));
    if (error.statusCode === 413) {
      return reply
        .code(413)
        .send(errorBody("Validation", `Request body over the server's limit (--max-body-bytes): ${error.message}`));
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorBody("Validation", error.message));
    }
    return reply.code(500).send(errorBody("Backend", `Inference failed: ${error.message}`));
  });

  /** Runs texts through the queue; answers the HTTP error itself and returns undefined when it did. */
  async function admitted<T extends JobResult>(
    key: string,
    texts: string[],
    reply: FastifyReply,
  ): Promise<T[] | undefined> {
    if (texts.length > maxTexts) {
      await reply
        .code(413)
        .send(errorBody("Validation", `batch size ${texts.length} > maximum allowed batch size ${maxTexts}`));
      return undefined;
    }
    if (texts.length === 0) return [];
    // The client may leave: its job then leaves the queue (or stops the model between batches).
    const left = new AbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) left.abort(new Error("the client closed the connection"));
    });
    try {
      return (await queue.submit(key, texts, left.signal)) as T[];
    } catch (error) {
      if (left.signal.aborted) return undefined; // nobody to answer
      if (error instanceof AdmissionError) {
        await reply
          .code(error.status)
          .header("retry-after", String(error.retryAfterS))
          .send(errorBody(error.status === 429 ? "Overloaded" : "Unhealthy", error.message));
        return undefined;
      }
      throw error;
    }
  }

  const rankBest = (raw: number[]) =>
    raw.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);

  app.get("/health", async (_request, reply) => reply.code(200).send());
  app.get("/info", async (): Promise<TeiInfo & Record<string, unknown>> => ({
    model_id: reranker.model,
    model_sha: null,
    model_dtype: reranker.quantized ? "int8" : "float32",
    model_type: { reranker: { id2label: { "0": "LABEL_0" }, label2id: { LABEL_0: 0 } } },
    max_concurrent_requests: maxQueue + maxConcurrent,
    max_input_length: reranker.maxLength ?? reranker.profile?.maxLength ?? 512,
    max_batch_tokens: reranker.maxBatchTokens,
    max_batch_requests: null,
    max_client_batch_size: maxTexts,
    auto_truncate: true,
    tokenization_workers: 1,
    version: packageVersion(),
    sha: null,
    docker_label: null,
    ...(embeddings ? { embedding_model_id: embeddings.model } : {}),
  }));
  app.get("/metrics", async (_request, reply) =>
    reply.type("text/plain; version=0.0.4").send(metrics.render({ queued: queue.queued, active: queue.active })),
  );

  app.post<{ Body: TeiRerankRequest }>("/rerank", { schema: { body: TEI_RERANK_BODY } }, async (request, reply) => {
    const { query, texts, raw_scores, return_text } = request.body;
    const raw = await admitted<number>(RERANK_KEY + query, texts, reply);
    if (!raw) return reply;
    const ranks: TeiRank[] = rankBest(raw).map(({ index, score }) => ({
      index,
      score: raw_scores ? score : sigmoid(score),
      ...(return_text ? { text: texts[index] } : {}),
    }));
    return reply.send(ranks);
  });

  app.post<{ Body: { inputs: string | string[]; normalize?: boolean | null } }>(
    "/embed",
    { schema: { body: TEI_EMBED_BODY } },
    async (request, reply) => {
      if (!embeddings) {
        return reply
          .code(424)
          .send(
            errorBody(
              "Backend",
              "This server has no embedding model: start it with --embedding-model <id|dir> to serve /embed.",
            ),
          );
      }
      const { inputs } = request.body;
      const normalize = request.body.normalize ?? true;
      const vectors = await admitted<number[]>(EMBED_KEY, Array.isArray(inputs) ? inputs : [inputs], reply);
      if (!vectors) return reply;
      return reply.send(
        normalize
          ? vectors.map((v) => {
              const norm = Math.hypot(...v) || 1;
              return v.map((x) => x / norm);
            })
          : vectors,
      );
    },
  );

  const cohereAnswer = (raw: number[], topN: number | undefined, version: string, documents?: unknown[]) => {
    const answer: CohereRerankResponse = {
      id: randomUUID(),
      results: rankBest(raw)
        .slice(0, topN ?? raw.length)
        .map(({ index, score }) => ({
          index,
          relevance_score: sigmoid(score),
          ...(documents ? { document: documents[index] as { text: string } } : {}),
        })),
      meta: { api_version: { version }, billed_units: { search_units: 1 } },
    };
    return answer;
  };

  app.post<{ Body: CohereV1RerankRequest }>(
    "/v1/rerank",
    { schema: { body: COHERE_V1_BODY } },
    async (request, reply) => {
      const { query, documents, top_n, return_documents, rank_fields } = request.body;
      const texts = documents.map((doc) =>
        typeof doc === "string"
          ? doc
          : rank_fields && rank_fields.length > 0
            ? rank_fields.map((field) => doc[field] ?? "").join("\n")
            : (doc.text ?? ""),
      );
      const raw = await admitted<number>(RERANK_KEY + query, texts, reply);
      if (!raw) return reply;
      const echoed = return_documents
        ? documents.map((doc) => (typeof doc === "string" ? { text: doc } : doc))
        : undefined;
      return reply.send(cohereAnswer(raw, top_n ?? undefined, "1", echoed));
    },
  );

  app.post<{ Body: CohereV2RerankRequest }>(
    "/v2/rerank",
    { schema: { body: COHERE_V2_BODY } },
    async (request, reply) => {
      const { query, documents, top_n } = request.body;
      const raw = await admitted<number>(RERANK_KEY + query, documents, reply);
      if (!raw) return reply;
      return reply.send(cohereAnswer(raw, top_n ?? undefined, "2"));
    },
  );

  try {
    await app.listen({ host, port });
  } catch (error) {
    await release();
    throw error;
  }
  const { url, port: boundPort } = listeningAddress(app, host, port);
  let closing: Promise<void> | undefined;
  return {
    url,
    port: boundPort,
    reranker,
    close() {
      closing ??= (async () => {
        await closeGracefully(app);
        await queue.close();
        await release();
      })();
      return closing;
    },
  };
}
