// Python clients nobody in this project wrote, talking to `two-stage serve`: `requests` posting TEI's /rerank schema,
// haystack-ai's HuggingFaceTEIRanker (TEI /rerank), LangChain Python's CohereRerank with base_url (cohere.ClientV2,
// /v2/rerank) and cohere's v1 Client (/v1/rerank). Their scores must be the local model's (sigmoid of its logits;
// raw logits with raw_scores), in its order; without the key, 401.
// The venv: peers/setup_venv.sh clients (pinned in peers/requirements-clients.txt; .ci/run creates it).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor } from "../src/index.js";
import { type RerankServer, startRerankServer } from "../src/serve.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels } from "./support/models.js";

const VENV = path.join(
  process.env.TSR_PEERS_CACHE ?? path.join(os.homedir(), ".cache", "two-stage-retriever", "peers"),
  "venv-clients",
);
const PYTHON = path.join(VENV, "bin", "python");
const SCRIPT = path.resolve("peers/clients/rerank_clients.py");
const KEY = "python-clients-key-0123456789";
const QUERY = "cross-encoder reranker attention passage";
const TEXTS = TEST_CORPUS.slice(0, 8);

const models = buildTestModels();
let server: RerankServer;

beforeAll(async () => {
  server = await startRerankServer({ reranker: { model: models.crossEncoder }, port: 0, apiKey: KEY });
});
afterAll(async () => {
  await server?.close();
  models.cleanup();
});

/** Runs the clients' script with `input` on stdin, killed after 120 s. */
function runPython(input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, server.url], {
      env: { ...process.env, TWO_STAGE_API_KEY: KEY, HF_HUB_OFFLINE: "1", HAYSTACK_TELEMETRY_ENABLED: "False" },
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

interface ClientAnswer {
  route: string;
  scores?: number[];
  order?: number[];
  status?: number;
}

test("requests, haystack-ai, LangChain Python and cohere's v1 client get the local model's scores", async () => {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(`No Python client venv at ${VENV}: run peers/setup_venv.sh clients (CI does, in .ci/run).`);
  }
  // Asynchronously: the server answers from this process's event loop.
  const run = await runPython(JSON.stringify({ query: QUERY, texts: TEXTS }));
  if (run.status !== 0) throw new Error(`rerank_clients.py failed (${run.status}):\n${run.stderr}`);
  const answers = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, ClientAnswer> & {
    versions: Record<string, string>;
  };

  const local = new CrossEncoderCompressor({ model: models.crossEncoder, activation: "none" });
  const logits = await local.score(QUERY, TEXTS);
  await local.dispose();
  const sigmoid = logits.map((x) => 1 / (1 + Math.exp(-x)));
  const best = TEXTS.map((_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  expect(new Set(logits).size).toBeGreaterThan(3); // the scores tell the texts apart: the order below means something

  answers.requests_raw.scores!.forEach((score, i) => expect(Math.abs(score - logits[i])).toBeLessThan(1e-5));
  for (const name of ["requests", "haystack", "langchain", "cohere_v1"]) {
    const scores = answers[name].scores!;
    expect(scores).toHaveLength(TEXTS.length);
    scores.forEach((score, i) => expect(Math.abs(score - sigmoid[i])).toBeLessThan(1e-6));
  }
  expect(answers.haystack.order).toEqual(best);
  expect(answers.langchain.order).toEqual(best);
  expect(answers.requests_without_key.status).toBe(401);
  expect(answers.langchain.route).toBe("POST /v2/rerank");
  expect(Object.keys(answers.versions).sort()).toEqual([
    "cohere",
    "haystack-ai",
    "langchain-cohere",
    "langchain-core",
    "requests",
  ]);
}, 180_000);
