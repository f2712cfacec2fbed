// `two-stage mcp <index>`: a TwoStageRetriever as Model Context Protocol tools — `search`, `explain`, `get` — on the
// official SDK (@modelcontextprotocol/sdk, an optional peer dependency, with zod), over stdio or streamable HTTP
// (mcp_http.ts). Inputs are checked by the tools' schemas; outputs are bounded (texts cut, metadata limited to short
// plain values), so an agent's context cannot be flooded by one call.
import type { DocumentInterface } from "@langchain/core/documents";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

import { documentKey } from "../documents/document_key.js";
import { RETRIEVAL_METADATA_KEYS } from "../documents/result_metadata.js";
import { importOptional } from "../optional_import.js";
import type { TwoStageRetriever } from "../two_stage_retriever.js";
import { packageVersion } from "./package_version.js";
import { type RetrieverMcpParams, checkRetrieverMcpParams } from "./mcp_server_params.js";

export type { RetrieverMcpParams } from "./mcp_server_params.js";

const FEATURE = "two-stage mcp (two-stage-retriever/serve)";

/** What a tool says about one document: its id by the identity rule, scores and ranks, a bounded text. */
export interface McpDocument {
  /** The document's id (`doc.id`, `metadata.id`, `metadata.docId`), or `text:<first characters>` without one. */
  id: string;
  text: string;
  /** True when `text` was cut to the server's `maxTextChars`. */
  truncated: boolean;
  /** Metadata of the document's own with plain values (strings cut to 200 characters), at most 20 keys. */
  metadata: Record<string, string | number | boolean | null>;
}

const METADATA_KEYS = 20;
const METADATA_CHARS = 200;
const OWN_KEYS = new Set<string>([...RETRIEVAL_METADATA_KEYS, "shadowedMetadata", "denseRank", "bm25Rank"]);

/** The id an agent passes back to `get`: the identity rule's key without its `id:` prefix. */
export function mcpDocumentId(doc: DocumentInterface): string {
  const key = documentKey(doc);
  return key.startsWith("id:") ? key.slice(3) : `text:${key.slice(5, 85)}`;
}

function cut(text: string, max: number): { text: string; truncated: boolean } {
  return text.length > max ? { text: `${text.slice(0, max)}…`, truncated: true } : { text, truncated: false };
}

function boundedMetadata(metadata: Record<string, unknown> | undefined): McpDocument["metadata"] {
  const kept: McpDocument["metadata"] = {};
  let count = 0;
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (OWN_KEYS.has(key) || count >= METADATA_KEYS) continue;
    if (typeof value === "string") kept[key] = cut(value, METADATA_CHARS).text;
    else if (typeof value === "boolean" || value === null || (typeof value === "number" && Number.isFinite(value))) {
      kept[key] = value;
    } else continue;
    count++;
  }
  return kept;
}

function describe(doc: DocumentInterface, maxChars: number): McpDocument {
  return { id: mcpDocumentId(doc), ...cut(doc.pageContent, maxChars), metadata: boundedMetadata(doc.metadata) };
}

/**
 * One JSON result as MCP tool content: the JSON as text, what every client passes to its model (structured content
 * would need an output schema, and LangChain's adapters then hand the model a wrapped block instead).
 */
function jsonResult(value: Record<string, unknown>) {
  return { content: [{ type: "text" as const, text: JSON.stringify(value) }] };
}

function errorResult(message: string) {
  return { content: [{ type: "text" as const, text: message }], isError: true };
}

/**
 * A Model Context Protocol server (the SDK's `McpServer`) exposing `retriever` as three tools: `search` (query,
 * optional topK and metadata filter → the reranked documents), `explain` (what each stage did for a query: every
 * stage-1 candidate's rank and score, its stage-2 rank and score, the moves) and `get` (documents by id). Connect it
 * to a transport: `await server.connect(new StdioServerTransport())`, or use {@link startMcpHttpServer}.
 * Needs `@modelcontextprotocol/sdk` and `zod` (`npm install @modelcontextprotocol/sdk zod`).
 *
 * @example
 * ```ts
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * const server = await createRetrieverMcpServer({ retriever });
 * await server.connect(new StdioServerTransport());
 * ```
 */
export async function createRetrieverMcpServer(params: RetrieverMcpParams): Promise<McpServer> {
  checkRetrieverMcpParams(params);
  const [{ McpServer }, { z }] = await Promise.all([
    importOptional<typeof import("@modelcontextprotocol/sdk/server/mcp.js")>(
      "@modelcontextprotocol/sdk/server/mcp.js",
      FEATURE,
      "@modelcontextprotocol/sdk",
    ),
    importOptional<typeof import("zod")>("zod", FEATURE),
  ]);
  const { retriever } = params;
  const maxTopK = params.maxTopK ?? 20;
  const maxTextChars = params.maxTextChars ?? 2000;
  const maxQueryChars = params.maxQueryChars ?? 2000;
  const maxCandidates = params.maxCandidates ?? 100;
  const maxIds = 20;

  const server = new McpServer(
    { name: params.name ?? "two-stage-retriever", version: params.version ?? packageVersion() },
    {
      instructions:
        "Search a document collection: `search` returns the best documents for a question (vector/BM25 recall, then " +
        "a cross-encoder reranker); `get` fetches documents by the ids search returns; `explain` shows how each " +
        "stage ranked the candidates.",
    },
  );
  const query = z
    .string()
    .min(1)
    .max(maxQueryChars)
    .refine((q) => q.trim() !== "", "query must contain more than spaces")
    .describe("The question or keywords to search for.");
  const plain = z.union([z.string().max(METADATA_CHARS), z.number(), z.boolean()]);

  server.registerTool(
    "search",
    {
      title: "Search the documents",
      description: `The documents that best answer a query, best first (at most ${maxTopK}), with their ids, relevance scores and text (cut to ${maxTextChars} characters).`,
      inputSchema: {
        query,
        topK: z
          .number()
          .int()
          .min(1)
          .max(maxTopK)
          .optional()
          .describe(`How many documents to return (default ${Math.min(retriever.topK, maxTopK)}).`),
        filter: z
          .record(z.string(), plain)
          .optional()
          .describe('Metadata fields the documents must equal, e.g. {"source": "handbook.md"}.'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, topK, filter }, extra) => {
      try {
        const configurable = { topK: topK ?? Math.min(retriever.topK, maxTopK), ...(filter ? { filter } : {}) };
        const docs = await retriever.invoke(query, { configurable, signal: extra.signal });
        return jsonResult({
          query,
          results: docs.slice(0, configurable.topK).map((doc, i) => ({
            rank: i + 1,
            relevanceScore: doc.metadata.relevanceScore ?? null,
            recallRank: doc.metadata.recallRank,
            reranked: doc.metadata.reranked !== false,
            ...describe(doc, maxTextChars),
          })),
        });
      } catch (error) {
        return errorResult(`search failed: ${(error as Error).message}`);
      }
    },
  );

  server.registerTool(
    "explain",
    {
      title: "Explain a search",
      description:
        "What each stage did for a query: every stage-1 candidate (up to " +
        `${maxCandidates}) with its recall rank and score, its rerank rank and score, how far it moved, and whether it ` +
        "was returned; plus the time each stage took. Texts are cut to 160 characters.",
      inputSchema: { query },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query }) => {
      try {
        const explanation = await retriever.explain(query);
        const shown = explanation.candidates.slice(0, maxCandidates);
        return jsonResult({
          query,
          timings: explanation.timings,
          candidates: shown.map((c) => ({
            id: mcpDocumentId(c.document),
            recallRank: c.recallRank,
            recallScore: c.recallScore,
            rerankRank: c.rerankRank ?? null,
            relevanceScore: c.relevanceScore ?? null,
            moved: c.rerankRank === undefined ? null : c.recallRank - c.rerankRank,
            returned: c.returned,
            ...(c.dropped ? { dropped: c.dropped } : {}),
            snippet: cut(c.document.pageContent, 160).text,
          })),
          omittedCandidates: explanation.candidates.length - shown.length,
        });
      } catch (error) {
        return errorResult(`explain failed: ${(error as Error).message}`);
      }
    },
  );

  server.registerTool(
    "get",
    {
      title: "Get documents by id",
      description: `Documents by the ids search returned (at most ${maxIds}), with their text (cut to ${maxTextChars} characters) and metadata; unknown ids are listed as missing.`,
      inputSchema: {
        ids: z.array(z.string().min(1).max(1000)).min(1).max(maxIds).describe("Document ids from search results."),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ ids }) => {
      try {
        const found = await retriever.getDocuments(ids);
        return jsonResult({
          documents: found.flatMap((doc) => (doc ? [describe(doc, maxTextChars)] : [])),
          missing: ids.filter((_, i) => !found[i]),
        });
      } catch (error) {
        return errorResult(`get failed: ${(error as Error).message}`);
      }
    },
  );
  return server;
}

export type { TwoStageRetriever };
