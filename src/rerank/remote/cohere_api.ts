// Cohere's rerank APIs, as the cohere-ai client (7.21 and 8.1 alike) sends and reads them (api/client/requests/RerankRequest,
// api/resources/v2/client/requests/V2RerankRequest and their serializers):
//   POST /v1/rerank {model?, query, documents: (string | {text, …})[], top_n?, rank_fields?, return_documents?,
//                    max_chunks_per_doc?} → {id?, results: [{index, relevance_score, document?: {text}}], meta?}
//   POST /v2/rerank {model, query, documents: string[], top_n?, max_tokens_per_doc?, priority?}
//                 → {id?, results: [{index, relevance_score}], meta?}
// relevance_score is in [0, 1]; results come best first.
import { type RerankWire, scoresByIndex } from "./rerank_wire.js";

/** The body of Cohere's `POST /v1/rerank`. */
export interface CohereV1RerankRequest {
  model?: string;
  query: string;
  documents: (string | { text: string; [field: string]: string })[];
  top_n?: number;
  rank_fields?: string[];
  return_documents?: boolean;
  max_chunks_per_doc?: number;
}

/** The body of Cohere's `POST /v2/rerank`. */
export interface CohereV2RerankRequest {
  model: string;
  query: string;
  documents: string[];
  top_n?: number;
  max_tokens_per_doc?: number;
  priority?: number;
}

/** One result of Cohere's rerank answer (v1 adds `document` when asked to return documents). */
export interface CohereRerankResult {
  index: number;
  relevance_score: number;
  document?: { text: string };
}

/** Cohere's rerank answer (v1 and v2). */
export interface CohereRerankResponse {
  id?: string;
  results: CohereRerankResult[];
  meta?: { api_version?: { version: string }; billed_units?: { search_units?: number } };
}

function cohereScores(answer: unknown, count: number): number[] | string {
  const results = (answer as Partial<CohereRerankResponse> | null)?.results;
  return scoresByIndex(results, count, "relevance_score", "the answer's results");
}

/** Cohere's `/v1/rerank` (every score: no top_n; no documents echoed back). */
export function cohereV1Rerank(model: string | undefined): RerankWire {
  return {
    path: "v1/rerank",
    body(query, texts): CohereV1RerankRequest {
      return { ...(model !== undefined ? { model } : {}), query, documents: [...texts], return_documents: false };
    },
    scores: cohereScores,
  };
}

/** Cohere's `/v2/rerank` (every score: no top_n). */
export function cohereV2Rerank(model: string): RerankWire {
  return {
    path: "v2/rerank",
    body(query, texts): CohereV2RerankRequest {
      return { model, query, documents: [...texts] };
    },
    scores: cohereScores,
  };
}
