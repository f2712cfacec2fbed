// Hugging Face Text Embeddings Inference's rerank API (docs/openapi.json of huggingface/text-embeddings-inference):
//   POST /rerank {query, texts, raw_scores?, return_text?, truncate?, truncation_direction?} → [{index, score, text?}]
//   GET /info → {model_id, model_type: {reranker: {...}}, max_client_batch_size, max_batch_tokens, max_input_length, …}
// `score` is the sigmoid of the logit unless raw_scores is true. `two-stage serve` speaks the same.
import { type RerankWire, scoresByIndex } from "./rerank_wire.js";

/** The body of TEI's `POST /rerank`. */
export interface TeiRerankRequest {
  query: string;
  texts: string[];
  /** Raw logits instead of their sigmoid. */
  raw_scores?: boolean;
  /** Cut inputs longer than the model's maximum instead of answering 413. */
  truncate?: boolean;
  return_text?: boolean;
}

/** One entry of TEI's `POST /rerank` answer (sorted by score, best first). */
export interface TeiRank {
  index: number;
  score: number;
  text?: string;
}

/** The fields of TEI's `GET /info` a client reads. */
export interface TeiInfo {
  model_id: string;
  max_client_batch_size: number;
  max_batch_tokens?: number;
  max_input_length?: number;
}

/** TEI's `/rerank`, always asking for raw logits (the activation is applied client-side, as the local model does). */
export const TEI_RERANK: RerankWire = {
  path: "rerank",
  body(query, texts): TeiRerankRequest {
    return { query, texts: [...texts], raw_scores: true, truncate: true, return_text: false };
  },
  scores(answer, count) {
    return scoresByIndex(answer, count, "score", "the answer");
  },
};

/**
 * Texts per request a TEI server takes well: its `max_client_batch_size` (more is refused), and no more than one
 * model batch of full-length inputs (`max_batch_tokens` / `max_input_length`) when it reports both, so each request
 * fits one forward pass and concurrent requests spread over the server's batches.
 */
export function teiRequestSize(info: TeiInfo): number {
  const { max_client_batch_size: size, max_batch_tokens: tokens, max_input_length: length } = info;
  const usable = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x > 0;
  return usable(tokens) && usable(length) ? Math.min(size, Math.max(1, Math.floor(tokens / length))) : size;
}

/** The `GET /info` fields this client uses, or a description of what is missing. */
export function readTeiInfo(answer: unknown): TeiInfo | string {
  const info = answer as Partial<TeiInfo> | null;
  const size = info?.max_client_batch_size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    return `max_client_batch_size is ${JSON.stringify(size)}; expected a positive integer`;
  }
  return { ...info, model_id: String(info?.model_id ?? ""), max_client_batch_size: size };
}
