// Soak: memory over long runs (not a unit test). `npm run bench:soak` (add `-- --scale 0.1` for a quick run).
//   1. 30,000 invokes of one retriever (FAISS stage 1 + lexical cross-encoder);
//   2. 200 create → invoke → dispose cycles of a whole retriever (models loaded from disk each time);
//   3. 100 save → load cycles of a ~50 MB FaissVectorStore into one folder.
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
import { buildLexicalBiEncoder, buildLexicalCrossEncoder } from "../src/testing/index.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";

const scaleArg = process.argv.indexOf("--scale");
const SCALE = scaleArg >= 0 ? Number(process.argv[scaleArg + 1]) : 1;
const INVOKES = Math.round(30_000 * SCALE);
const CYCLES = Math.round(200 * SCALE);
const SAVES = Math.round(100 * SCALE);
const onlyArg = process.argv.indexOf("--only");
const ONLY = onlyArg >= 0 ? process.argv[onlyArg + 1] : undefined; // invokes | cycles | saves

env.allowRemoteModels = false;
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** Runs `count` steps, sampling RSS after the first, every tenth of the way, and after the last. */
async function soak(name: string, count: number, stepFn: (i: number) => Promise<void>): Promise<void> {
  if (count === 0) return;
  const series: [number, number][] = [];
  const started = performance.now();
  const every = Math.max(1, Math.floor(count / 10));
  for (let i = 0; i < count; i++) {
    await stepFn(i);
    if (i === 0 || (i + 1) % every === 0 || i === count - 1) {
      (globalThis as { gc?: () => void }).gc?.();
      series.push([i + 1, rssMb()]);
    }
  }
  const [first, middle, last] = [series[0], series[Math.floor(series.length / 2)], series[series.length - 1]];
  console.log(
    `${name}: ${count} in ${((performance.now() - started) / 1000).toFixed(0)} s; RSS MB first/middle/last = ` +
      `${first[1]} / ${middle[1]} / ${last[1]}\n  series (step: MB): ${series.map(([n, mb]) => `${n}: ${mb}`).join(", ")}`,
  );
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
  const docs = texts.map((text, i) => new Document({ pageContent: text, metadata: { i } }));
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function";
  console.log(
    `start: RSS ${rssMb()} MB, node ${process.version}, ${os.cpus().length} cores (maybe shared), ${gc ? "full GC before each sample" : "no forced GC"}`,
  );

  // 1. Invokes.
  const embeddings = new TransformersEmbeddings({ model: biEncoder });
  const store = await FaissVectorStore.fromDocuments(docs, embeddings);
  const compressor = new CrossEncoderCompressor({ model: crossEncoder });
  const retriever = new TwoStageRetriever({ vectorStore: store, compressor, recallK: 20, topK: 5 });
  await soak("invokes", ONLY && ONLY !== "invokes" ? 0 : INVOKES, async (i) => {
    await retriever.invoke(
      `${words[i % words.length]} ${words[(i * 7) % words.length]} ${words[(i * 3) % words.length]}`,
    );
  });

  // 2. Create → invoke → dispose.
  const small = docs.slice(0, 200);
  await soak("create/dispose cycles", ONLY && ONLY !== "cycles" ? 0 : CYCLES, async (i) => {
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
  await soak("save/load cycles (50 MB)", ONLY && ONLY !== "saves" ? 0 : SAVES, async () => {
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
