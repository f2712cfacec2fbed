// Comparison 4: dense flat search, our FAISS (faiss-node 0.5.1 on FAISS 1.7.3) vs faiss-cpu (Python), on the same
// N × 384 random unit vectors written once to a file both sides read, k 100, inner product. One query at a time
// (ours through FaissVectorStore.similaritySearchVectorWithScore, the public path, Documents included) and batches of
// 32 queries per call (ours: faiss-node's IndexFlatIP.search on the 32 rows, as the package holds no batch API).
// Rounds alternate: each round is a slice of the queries on both sides.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import faiss from "faiss-node";

import { FaissVectorStore } from "../src/recall/faiss/faiss_vector_store.js";
import { randomUnitVectors } from "../src/testing/random_vectors.js";
import { PeerProcess } from "./peers_process.js";
import { alternate, report } from "./peers_report.js";
import { median } from "./support.js";

const DIM = 384;
const K = 100;

export interface DenseSettings {
  n: number;
  /** Single queries per round; batches of 32 per round: this / 32, rounded (at least 1). */
  queries: number;
  rounds: number;
  threads: number;
}

/** Seeded random unit vectors written to `file` (float32, row-major); returns them. */
function writeVectors(file: string, rows: number, seed: number): Float32Array {
  const vectors = randomUnitVectors(rows, DIM, seed);
  fs.writeFileSync(file, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  return vectors;
}

export async function compareDense(s: DenseSettings, tmp: string): Promise<void> {
  const batchesPerRound = Math.max(1, Math.round(s.queries / 32));
  const warmStart = Math.max(s.queries, batchesPerRound * 32) * s.rounds; // warm-up queries, never timed
  const total = warmStart + 4;
  const vectorsFile = path.join(tmp, `vectors-${s.n}x${DIM}.f32`);
  const queriesFile = path.join(tmp, `queries-${total}x${DIM}.f32`);
  writeVectors(vectorsFile, s.n, 1); // not kept: ours reads the file back, as the peer does
  const queries = writeVectors(queriesFile, total, 2);
  console.log(
    `\n## Dense flat search: ${s.n} × ${DIM} random unit vectors (seeded, one file both read), k ${K}, inner product`,
  );
  const peer = PeerProcess.python("faiss");
  try {
    const info = await peer.call<{ faiss: string; omp_threads: number; addMs: number }>("faiss.load", {
      vectors: vectorsFile,
      queries: queriesFile,
      dim: DIM,
      threads: s.threads,
    });
    // Ours reads the same file.
    const raw = fs.readFileSync(vectorsFile);
    const flat = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const store = new FaissVectorStore(new FakeEmbeddings());
    const empty = new Document({ pageContent: "" });
    store.addFlatVectors(
      flat,
      DIM,
      Array.from({ length: s.n }, () => empty),
    );
    const index = new faiss.IndexFlatIP(DIM);
    // The batch path's index (same FAISS build the store uses), added in slices: faiss-node's add() takes a JS array.
    const rowsPerAdd = 8192;
    for (let row = 0; row < s.n; row += rowsPerAdd) {
      index.add(Array.from(flat.subarray(row * DIM, Math.min(s.n, row + rowsPerAdd) * DIM)));
    }
    const queryOf = (i: number) => Array.from(queries.subarray(i * DIM, (i + 1) * DIM));
    const blas = process.env.OPENBLAS_NUM_THREADS;
    // The OpenBLAS the loader really mapped: setup-faiss links the OpenMP build where there is one.
    const openblas =
      fs
        .readFileSync("/proc/self/maps", "utf8")
        .split("\n")
        .map((line) => line.trim().split(/\s+/).pop() ?? "")
        .find((file) => /libopenblas/.test(file)) ?? "no shared OpenBLAS";
    const threads = `FAISS 1.7.3 OpenMP ${process.env.OMP_NUM_THREADS ?? `default (${os.cpus().length} here)`}, OpenBLAS ${openblas}${blas ? ` OPENBLAS_NUM_THREADS=${blas}` : ""}`;
    const peerLabel = `faiss-cpu ${info.faiss}`;
    const peerThreads = `OpenMP ${info.omp_threads}, its bundled OpenBLAS${blas ? ` OPENBLAS_NUM_THREADS=${blas}` : ""}`;

    // Warm-up on queries never timed.
    for (let i = 0; i < 4; i++) await store.similaritySearchVectorWithScore(queryOf(warmStart + i), K);
    await peer.call("faiss.search", { start: warmStart, count: 4, batch: 1, k: K });

    const single = await alternate(
      s.rounds,
      async (r) => {
        const times: number[] = [];
        for (let i = 0; i < s.queries; i++) {
          const t0 = performance.now();
          await store.similaritySearchVectorWithScore(queryOf(r * s.queries + i), K);
          times.push(performance.now() - t0);
        }
        return median(times);
      },
      async (r) =>
        median(
          (
            await peer.call<{ ms: number[] }>("faiss.search", {
              start: r * s.queries,
              count: s.queries,
              batch: 1,
              k: K,
            })
          ).ms,
        ),
    );
    report({
      section: "dense",
      what: `flat ${s.n} × ${DIM}, k ${K}, one query per call (p50)`,
      unit: "ms/query",
      ours: { label: "FaissVectorStore.similaritySearchVectorWithScore", threads, values: single.ours },
      peer: { label: `${peerLabel} IndexFlatIP.search`, threads: peerThreads, values: single.peer },
      target: 1.1,
    });

    const batched = await alternate(
      s.rounds,
      async (r) => {
        const times: number[] = [];
        for (let b = 0; b < batchesPerRound; b++) {
          const start = (r * batchesPerRound + b) * 32;
          const rows = Array.from(queries.subarray(start * DIM, (start + 32) * DIM));
          const t0 = performance.now();
          index.search(rows, K);
          times.push(performance.now() - t0);
        }
        return median(times);
      },
      async (r) =>
        median(
          (
            await peer.call<{ ms: number[] }>("faiss.search", {
              start: r * batchesPerRound * 32,
              count: batchesPerRound * 32,
              batch: 32,
              k: K,
            })
          ).ms,
        ),
    );
    report({
      section: "dense",
      what: `flat ${s.n} × ${DIM}, k ${K}, batches of 32 queries (p50 per batch)`,
      unit: "ms/batch",
      ours: { label: "faiss-node IndexFlatIP.search (32 rows)", threads, values: batched.ours },
      peer: { label: `${peerLabel} IndexFlatIP.search`, threads: peerThreads, values: batched.peer },
      target: 1.1,
    });
    store.dispose();
  } finally {
    peer.close();
  }
}
