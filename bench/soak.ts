// Soak: memory over long runs (not a unit test). `npm run bench:soak` (add `-- --scale 0.1` for a quick run,
// `-- --only rerankers` or a comma-separated list of sections to run only those).
//   rerankers: 200 create → score → dispose cycles of a CrossEncoderCompressor on one model file (the lexical
//              cross-encoder, or with `--reranker minilm-l6` a MiniLM-L6-shaped int8 one, the default reranker's
//              shape); RSS every 20 cycles, the ratio of cycle 200 to cycle 20 and PASS/FAIL against 1.10 (exit
//              code 1 on FAIL);
//   invokes:   30,000 invokes of one retriever (FAISS stage 1 + lexical cross-encoder);
//   cycles:    200 create → invoke → dispose cycles of a whole retriever (models loaded from disk each time);
//   saves:     100 save → load cycles of a ~50 MB FaissVectorStore into one folder.
// Prints the RSS series of each soak (MB): first, every tenth, last. The machine may be shared: compare the shape of
// a series (flat vs growing), not absolute numbers across machines.
// With `node --expose-gc --import tsx bench/soak.ts` (`npm run bench:soak:gc`), a full GC runs before each sample:
// onnxruntime-node 1.14's session dispose() is a no-op, so a disposed model's native memory returns only when V8
// collects its wrapper; the GC series shows what is really retained.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { env } from "@xenova/transformers";

import { CrossEncoderCompressor, FaissVectorStore, TransformersEmbeddings, TwoStageRetriever } from "../src/index.js";
import { buildBertModel, buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";

const scaleArg = process.argv.indexOf("--scale");
const SCALE = scaleArg >= 0 ? Number(process.argv[scaleArg + 1]) : 1;
const INVOKES = Math.round(30_000 * SCALE);
const CYCLES = Math.round(200 * SCALE);
const SAVES = Math.round(100 * SCALE);
const RERANKER_CYCLES = Math.round(200 * SCALE);
/** The reranker soak passes when RSS at its last cycle is within this ratio of RSS at its first sample. */
const RERANKER_TARGET = 1.1;
const SECTIONS = ["rerankers", "invokes", "cycles", "saves"] as const;
const onlyArg = process.argv.indexOf("--only");
const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(",") : [...SECTIONS];
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    throw new Error(`Unknown soak section '${name}'. Expected a comma-separated list of: ${SECTIONS.join(", ")}.`);
  }
}
const rerankerArg = process.argv.indexOf("--reranker");
const RERANKER = rerankerArg >= 0 ? process.argv[rerankerArg + 1] : "lexical";
if (RERANKER !== "lexical" && RERANKER !== "minilm-l6") {
  throw new Error(`Unknown --reranker '${RERANKER}'. Expected one of: lexical, minilm-l6.`);
}
const runs = (section: (typeof SECTIONS)[number]) => only.includes(section);

env.allowRemoteModels = false;
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/**
 * Runs `count` steps, sampling RSS after the first (unless `skipFirst`), every tenth of the way, and after the last.
 * Returns the series as [step, MB].
 */
async function soak(
  name: string,
  count: number,
  stepFn: (i: number) => Promise<void>,
  skipFirst = false,
): Promise<[number, number][]> {
  const series: [number, number][] = [];
  if (count === 0) return series;
  const started = performance.now();
  const every = Math.max(1, Math.floor(count / 10));
  for (let i = 0; i < count; i++) {
    await stepFn(i);
    if ((i === 0 && !skipFirst) || (i + 1) % every === 0 || i === count - 1) {
      (globalThis as { gc?: () => void }).gc?.();
      series.push([i + 1, rssMb()]);
    }
  }
  const [first, middle, last] = [series[0], series[Math.floor(series.length / 2)], series[series.length - 1]];
  console.log(
    `${name}: ${count} in ${((performance.now() - started) / 1000).toFixed(0)} s; RSS MB first/middle/last = ` +
      `${first[1]} / ${middle[1]} / ${last[1]}\n  series (step: MB): ${series.map(([n, mb]) => `${n}: ${mb}`).join(", ")}`,
  );
  return series;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "two-stage-soak-"));
try {
  const words =
    "tide moon glacier moraine honeybee waggle dance yeast bread river delta volcano basalt comet orbit coral reef".split(
      " ",
    );
  const texts = Array.from({ length: 2_000 }, (_, i) =>
    Array.from({ length: 30 }, (_, j) => words[(i * 31 + j * 7 + ((i * j) % 5)) % words.length]).join(" "),
  );
  const biEncoder = path.join(scratch, "bi");
  const crossEncoder = path.join(scratch, "cross");
  buildLexicalBiEncoder(biEncoder, { corpus: texts });
  buildLexicalCrossEncoder(crossEncoder, { corpus: texts });
  let reranker = crossEncoder;
  if (runs("rerankers") && RERANKER === "minilm-l6") {
    reranker = path.join(scratch, "minilm-l6");
    await buildBertModel(reranker, { preset: "minilm-l6", head: "classification", quantize: true, corpus: texts });
  }
  const docs = texts.map((text, i) => new Document({ pageContent: text, metadata: { i } }));
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function";
  console.log(
    `start: RSS ${rssMb()} MB, node ${process.version}, ${os.cpus().length} cores (maybe shared), ${gc ? "full GC before each sample" : "no forced GC"}`,
  );

  // Reranker create → score → dispose on one model file, nothing else: the series the 10% target applies to.
  const series = await soak(
    `reranker create/score/dispose cycles (${RERANKER})`,
    runs("rerankers") ? RERANKER_CYCLES : 0,
    async (i) => {
      const compressor = new CrossEncoderCompressor({ model: reranker });
      await compressor.score(words[i % words.length], texts.slice(0, 20));
      await compressor.dispose();
    },
    true,
  );
  if (series.length > 1) {
    const [[firstStep, firstMb], [lastStep, lastMb]] = [series[0], series[series.length - 1]];
    const ratio = lastMb / firstMb;
    const pass = ratio <= RERANKER_TARGET;
    console.log(
      `  RSS at cycle ${lastStep} / cycle ${firstStep} = ${ratio.toFixed(3)} (target ≤ ${RERANKER_TARGET}): ${pass ? "PASS" : "FAIL"}`,
    );
    if (!pass) process.exitCode = 1;
  }

  // 1. Invokes.
  const embeddings = new TransformersEmbeddings({ model: biEncoder });
  if (runs("invokes")) {
    const store = await FaissVectorStore.fromDocuments(docs, embeddings);
    const compressor = new CrossEncoderCompressor({ model: crossEncoder });
    const retriever = new TwoStageRetriever({ vectorStore: store, compressor, recallK: 20, topK: 5 });
    await soak("invokes", INVOKES, async (i) => {
      await retriever.invoke(
        `${words[i % words.length]} ${words[(i * 7) % words.length]} ${words[(i * 3) % words.length]}`,
      );
    });
  }

  // 2. Create → invoke → dispose.
  const small = docs.slice(0, 200);
  await soak("create/dispose cycles", runs("cycles") ? CYCLES : 0, async (i) => {
    const e = new TransformersEmbeddings({ model: biEncoder });
    const c = new CrossEncoderCompressor({ model: crossEncoder });
    const r = new TwoStageRetriever({
      vectorStore: await FaissVectorStore.fromDocuments(small, e),
      compressor: c,
      recallK: 20,
      topK: 5,
    });
    await r.invoke(words[i % words.length]);
    const disposable = r as unknown as { dispose?: () => Promise<void> };
    if (typeof disposable.dispose === "function") await disposable.dispose();
    else {
      // Until the retriever has dispose(): release what this cycle created.
      await c.dispose();
      await e.dispose();
      (r.vectorStore as FaissVectorStore).dispose();
    }
  });

  // 3. Save → load of a ~50 MB index (32,000 × 384 float32 = 47 MB of vectors, plus the docstore).
  const count = 32_000;
  const dim = 384;
  const big = new FaissVectorStore(embeddings);
  big.addFlatVectors(
    randomUnitVectors(count, dim, 5),
    dim,
    Array.from({ length: count }, (_, i) => new Document({ pageContent: texts[i % texts.length], metadata: { i } })),
  );
  const dir = path.join(scratch, "index");
  const probe = Array.from(randomUnitVectors(1, dim, 6));
  await soak("save/load cycles (50 MB)", runs("saves") ? SAVES : 0, async () => {
    await big.save(dir);
    const loaded = await FaissVectorStore.load(dir, embeddings);
    await loaded.similaritySearchVectorWithScore(probe, 5);
    loaded.dispose();
  });
  if (fs.existsSync(dir)) {
    const size = fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.parentPath !== dir)
      .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
    console.log(
      `index size on disk: ${(size / 2 ** 20).toFixed(1)} MB; folder entries: ${fs.readdirSync(dir).join(", ")}`,
    );
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
