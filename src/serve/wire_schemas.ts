// JSON schemas of the request bodies `two-stage serve` takes (fastify validates them before a handler runs): TEI's
// /rerank and /embed, Cohere's /v1/rerank and /v2/rerank. Unknown fields are accepted and ignored, as the
// originals do; an optional field may be null (cohere-ai's serializer sends null for an unset one, e.g. LangChain's
// CohereRerank's max_chunks_per_doc); a count over the server's limit is answered 413 by the handler (TEI's "batch
// size error").

const text = { type: "string" } as const;

/** TEI `POST /rerank`. */
export const TEI_RERANK_BODY = {
  type: "object",
  required: ["query", "texts"],
  properties: {
    query: { type: "string", minLength: 1 },
    texts: { type: "array", items: text },
    raw_scores: { type: ["boolean", "null"] },
    return_text: { type: ["boolean", "null"] },
    truncate: { type: ["boolean", "null"] },
    truncation_direction: { type: ["string", "null"], enum: ["right", "left", "Right", "Left", null] },
  },
} as const;

/** TEI `POST /embed`. */
export const TEI_EMBED_BODY = {
  type: "object",
  required: ["inputs"],
  properties: {
    inputs: { anyOf: [text, { type: "array", items: text }] },
    normalize: { type: ["boolean", "null"] },
    truncate: { type: ["boolean", "null"] },
    prompt_name: { type: ["string", "null"] },
  },
} as const;

/** Cohere `POST /v1/rerank`. */
export const COHERE_V1_BODY = {
  type: "object",
  required: ["query", "documents"],
  properties: {
    model: { type: ["string", "null"] },
    query: { type: "string", minLength: 1 },
    documents: {
      type: "array",
      items: { anyOf: [text, { type: "object", additionalProperties: text }] },
    },
    top_n: { type: ["integer", "null"], minimum: 1 },
    rank_fields: { type: ["array", "null"], items: text },
    return_documents: { type: ["boolean", "null"] },
    max_chunks_per_doc: { type: ["integer", "null"], minimum: 1 },
  },
} as const;

/** Cohere `POST /v2/rerank`. */
export const COHERE_V2_BODY = {
  type: "object",
  required: ["model", "query", "documents"],
  properties: {
    model: { type: "string" },
    query: { type: "string", minLength: 1 },
    documents: { type: "array", items: text },
    top_n: { type: ["integer", "null"], minimum: 1 },
    max_tokens_per_doc: { type: ["integer", "null"], minimum: 1 },
    priority: { type: ["integer", "null"] },
  },
} as const;
