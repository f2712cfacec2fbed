// `two-stage mcp`: the retriever as MCP tools, proved with clients nobody here wrote — the official SDK's Client over
// stdio (the CLI as an agent host starts it) and over streamable HTTP (with the API key), and
// @langchain/mcp-adapters loading the tools into a LangChain agent driven by a scripted model.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { AIMessage } from "@langchain/core/messages";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { MultiServerMCPClient } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { ScriptedToolModel } from "../examples/scripted_tool_model.js";
import { TwoStageRetriever } from "../src/index.js";
import { type McpHttpServer, mcpDocumentId, startMcpHttpServer } from "../src/serve.js";
import { cliRunner } from "./support/cli.js";
import { writeTestDataset } from "./support/dataset.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-mcp-"));
const datasetDir = path.join(root, "tiny");
const indexDir = path.join(root, "index");
const KEY = "mcp-test-key-0123456789abcdef";
const QUERY = "cross-encoder reranker attention";
/** The CLI from source, as an MCP host would start it (caches and models inside the test folder). */
const serverCommand = {
  command: process.execPath,
  args: ["--import", "tsx", path.resolve("src/cli/main.ts"), "mcp", indexDir, "--offline"],
  env: {
    ...(process.env as Record<string, string>),
    XDG_CACHE_HOME: path.join(root, "cache"),
    TWO_STAGE_MODEL_DIR: path.join(root, "models"),
  },
  stderr: "pipe" as const,
};

let retriever: TwoStageRetriever;

beforeAll(async () => {
  writeTestDataset(datasetDir);
  const built = cliRunner(root)(
    "index",
    path.join(datasetDir, "corpus.jsonl"),
    "--out",
    indexDir,
    "--lexical-models",
    "--json",
  );
  if (built.status !== 0) throw new Error(`two-stage index failed:\n${built.stderr}`);
  // The same index in this process: what the tools answer must be what the retriever answers.
  const { openIndex } = await import("../src/cli/open_index.js");
  ({ retriever } = await openIndex(indexDir, { positionals: [], options: new Map([["offline", true]]) }));
}, 120_000);
afterAll(async () => {
  await retriever?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Found {
  results: { id: string; rank: number; relevanceScore: number; text: string }[];
}
interface Got {
  documents: { text: string }[];
  missing: string[];
}
interface Explained {
  candidates: {
    id: string;
    recallRank: number;
    rerankRank: number | null;
    moved: number | null;
    returned: boolean;
    snippet: string;
  }[];
}

/** The JSON a tool answered (its text content). */
function json<T = Found>(result: unknown): T {
  const content = (result as { content: { type: string; text: string }[] }).content;
  return JSON.parse(content[0].text) as T;
}

describe("two-stage mcp over stdio, with the SDK's Client", () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ name: "test-client", version: "1.0.0" });
    await client.connect(new StdioClientTransport(serverCommand));
  }, 120_000);
  afterAll(async () => {
    await client?.close();
  });

  test("lists search, explain and get with their input schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["explain", "get", "search"]);
    const search = tools.find((t) => t.name === "search")!;
    expect(search.inputSchema.required).toEqual(["query"]);
    expect(Object.keys(search.inputSchema.properties ?? {}).sort()).toEqual(["filter", "query", "topK"]);
    expect(search.annotations?.readOnlyHint).toBe(true);
  });

  test("search answers what the retriever answers, topK per call; get returns those documents by id", async () => {
    const want = await retriever.invoke(QUERY, { configurable: { topK: 2 } });
    const found = json(await client.callTool({ name: "search", arguments: { query: QUERY, topK: 2 } }));
    expect(found.results).toHaveLength(2);
    expect(found.results.map((r) => r.id)).toEqual(want.map(mcpDocumentId));
    found.results.forEach((r, i) => {
      expect(r.rank).toBe(i + 1);
      expect(r.relevanceScore).toBeCloseTo(want[i].metadata.relevanceScore as number, 6);
      expect(r.text).toBe(want[i].pageContent);
    });
    const one = json(await client.callTool({ name: "search", arguments: { query: QUERY, topK: 1 } }));
    expect(one.results).toHaveLength(1);

    const ids = found.results.map((r) => r.id);
    const got = json<Got>(await client.callTool({ name: "get", arguments: { ids: [...ids, "no-such-id"] } }));
    expect(got.documents.map((d) => d.text)).toEqual(want.map((d) => d.pageContent));
    expect(got.missing).toEqual(["no-such-id"]);
  });

  test("explain shows each candidate's stage-1 and stage-2 rank, score and move", async () => {
    const want = await retriever.explain(QUERY);
    const shown = json<Explained>(await client.callTool({ name: "explain", arguments: { query: QUERY } }));
    expect(shown.candidates).toHaveLength(want.candidates.length);
    shown.candidates.forEach((c, i) => {
      const w = want.candidates[i];
      expect(c).toMatchObject({ id: mcpDocumentId(w.document), recallRank: w.recallRank, returned: w.returned });
      expect(c.rerankRank).toBe(w.rerankRank ?? null);
      expect(c.moved).toBe(w.rerankRank === undefined ? null : w.recallRank - w.rerankRank);
      expect(c.snippet.length).toBeLessThanOrEqual(161);
    });
    expect(shown.candidates.some((c) => c.moved !== 0 && c.moved !== null)).toBe(true);
  });

  test("bad arguments are refused by the schema, with the reason, and the server keeps serving", async () => {
    for (const args of [{ query: "" }, { query: QUERY, topK: 0 }, { query: QUERY, topK: 1000 }, { topK: 2 }]) {
      const result = (await client.callTool({ name: "search", arguments: args })) as {
        isError?: boolean;
        content: { text: string }[];
      };
      expect(result.isError).toBe(true);
      expect(result.content[0].text).toMatch(/query|topK/);
    }
    const ok = json(await client.callTool({ name: "search", arguments: { query: QUERY } }));
    expect(ok.results.length).toBeGreaterThan(0);
  });
});

describe("two-stage mcp over streamable HTTP", () => {
  let server: McpHttpServer;
  beforeAll(async () => {
    server = await startMcpHttpServer({ retriever, port: 0, apiKey: KEY });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("the SDK's Client with the key searches; without it, 401 and no tool runs", async () => {
    const client = new Client({ name: "http-client", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      const found = json(await client.callTool({ name: "search", arguments: { query: QUERY, topK: 3 } }));
      const want = await retriever.invoke(QUERY, { configurable: { topK: 3 } });
      expect(found.results.map((r) => r.id)).toEqual(want.map(mcpDocumentId));
    } finally {
      await client.close();
    }
    const stranger = new Client({ name: "no-key", version: "1.0.0" });
    await expect(stranger.connect(new StreamableHTTPClientTransport(new URL(server.url)))).rejects.toThrow(/401/);
    const raw = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(raw.status).toBe(401);
  });
});

describe("@langchain/mcp-adapters", () => {
  test("loads the tools into a LangChain agent, which searches through them", async () => {
    const mcp = new MultiServerMCPClient({
      mcpServers: { notes: { transport: "stdio", ...serverCommand } },
    });
    try {
      const tools = await mcp.getTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["explain", "get", "search"]);
      const search = tools.find((t) => t.name === "search")!;
      const llm = new ScriptedToolModel([
        new AIMessage({
          content: "",
          tool_calls: [{ id: "call-1", name: "search", args: { query: QUERY, topK: 1 } }],
        }),
      ]);
      const agent = createReactAgent({ llm, tools: [search] });
      const { messages } = await agent.invoke({ messages: [{ role: "user", content: "What reranks passages?" }] });
      const toolMessage = messages.find((m) => m.getType() === "tool")!;
      const [best] = await retriever.invoke(QUERY, { configurable: { topK: 1 } });
      expect(JSON.parse(String(toolMessage.content)).results[0].id).toBe(mcpDocumentId(best));
      expect(String(messages.at(-1)!.content)).toContain(best.pageContent.slice(0, 40));
    } finally {
      await mcp.close();
    }
  }, 120_000);
});
