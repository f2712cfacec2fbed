// Comparison 2: BM25. Ours (Bm25Index: EnglishAnalyzer, k1 0.9, b 0.4, Lucene's length quantisation) vs bm25s
// (Python, numpy backend) and vs Anserini (Lucene; SimpleSearcher, the class Pyserini's LuceneSearcher wraps) on the
// same corpus file. Per round each side builds its index from the parsed corpus (ours and bm25s in memory; Anserini
// with IndexCollection from the file, 1 thread), then runs every query one at a time for its top k; the order of the
// sides rotates round by round. Quality: nDCG@10 and Recall@100 of each side's own live run against the qrels.
import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";

import { documentText, loadBeirDataset } from "../src/eval/beir_dataset.js";
import { mean, ndcgAt, quantile, recallAt } from "../src/eval/metrics.js";
import { Bm25Index } from "../src/recall/bm25/bm25_index.js";
import { PEERS_CACHE, PeerProcess } from "./peers_process.js";
import { report } from "./peers_report.js";
import { DATASETS, median } from "./support.js";

const K = 100;
const K1 = 0.9;
const B = 0.4;
const ANSERINI_VERSION = process.env.ANSERINI_VERSION ?? "1.5.0";
const JAVA_HOME = process.env.TSR_PEERS_JAVA_HOME ?? "/usr/lib/jvm/temurin-25-jdk-amd64";

export interface Bm25Settings {
  rounds: number;
  /** Documents of the large corpus (0: SciFact only). */
  large: number;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** The Anserini peer (peers/AnseriniPeer.java in source-file mode on the fat jar); refuses at once when missing. */
export function anseriniPeer(): PeerProcess {
  const jar = path.join(PEERS_CACHE, "dl", "maven", `anserini-${ANSERINI_VERSION}-fatjar.jar`);
  const java = path.join(JAVA_HOME, "bin", "java");
  const hint = "Fetch the jar with peers/fetch_anserini.sh; Anserini needs Java >= 21 (TSR_PEERS_JAVA_HOME).";
  for (const f of [jar, java]) {
    if (!fs.existsSync(f)) throw new Error(`The Anserini peer needs ${f}, which is missing. ${hint}`);
  }
  return PeerProcess.command("anserini", java, ["-cp", jar, path.join("peers", "AnseriniPeer.java")], {}, hint);
}

interface Corpus {
  label: string;
  /** A folder holding only `corpus.jsonl` (BeirFlatCollection reads every file in its input folder). */
  folder: string;
  documents: Document[];
  queries: { id: string; text: string }[];
  qrels?: Map<string, Map<string, number>>;
  idf: string;
}

function scifactCorpus(tmp: string): Corpus {
  const dir = path.join(DATASETS, "scifact");
  const data = loadBeirDataset(dir);
  const folder = path.join(tmp, "scifact-corpus");
  fs.mkdirSync(folder, { recursive: true });
  fs.symlinkSync(path.join(dir, "corpus.jsonl"), path.join(folder, "corpus.jsonl")); // read in place, never copied
  return {
    label: `BEIR SciFact (${data.corpus.length} docs, ${data.queries.length} test queries)`,
    folder,
    documents: data.corpus.map((d) => new Document({ pageContent: documentText(d), id: d.id })),
    queries: data.queries,
    qrels: data.qrels,
    idf: "",
  };
}

/**
 * ≥ `n` documents: the corpora of scifact, cranfield, cisi and adi (5,183 + 1,400 + 1,460 + 82 docs) written again
 * and again with new ids (`<collection>-<id>-r<copy>`) to one JSONL file that every side reads, queried with the four
 * collections' queries. A term's document frequency and N both grow by the number of copies, so Lucene's IDF,
 * log(1 + (N − df + 0.5)/(df + 0.5)), stays almost what it was on the four collections together; what changes against a
 * real 100k corpus is that the vocabulary stays small (~40k terms) and every posting list is ~12× longer, and that
 * each hit has 12 tied copies.
 */
function largeCorpus(tmp: string, n: number): Corpus {
  const names = ["scifact", "cranfield", "cisi", "adi"];
  const sets = names.map((name) => loadBeirDataset(path.join(DATASETS, name)));
  const folder = path.join(tmp, `large-${n}`);
  fs.mkdirSync(folder, { recursive: true });
  const documents: Document[] = [];
  const lines: string[] = [];
  for (let copy = 0; documents.length < n; copy++) {
    sets.forEach((set, s) => {
      for (const d of set.corpus) {
        if (documents.length >= n) return;
        const id = `${names[s]}-${d.id}-r${copy}`;
        lines.push(JSON.stringify({ _id: id, title: d.title, text: d.text }));
        documents.push(new Document({ pageContent: documentText(d), id }));
      }
    });
  }
  fs.writeFileSync(path.join(folder, "corpus.jsonl"), lines.join("\n") + "\n");
  return {
    label: `${n} docs: scifact + cranfield + cisi + adi corpora repeated with new ids (one JSONL file)`,
    folder,
    documents,
    queries: sets.flatMap((s) => s.queries),
    idf: "IDF ≈ that of the four collections together (df and N scale alike); vocabulary small, posting lists long",
  };
}

function quality(runs: string[][], corpus: Corpus): { ndcg: number; recall: number } {
  const qrels = corpus.qrels!;
  const judged = corpus.queries.map((q, i) => ({ j: qrels.get(q.id)!, run: runs[i] }));
  return {
    ndcg: mean(judged.map(({ j, run }) => ndcgAt(run, j, 10))),
    recall: mean(judged.map(({ j, run }) => recallAt(run, j, 100))),
  };
}

async function compareOn(corpus: Corpus, rounds: number, bm25s: PeerProcess, anserini: PeerProcess, tmp: string) {
  console.log(`\n## BM25: ${corpus.label}, k ${K}, k1 ${K1}, b ${B}`);
  const corpusFile = path.join(corpus.folder, "corpus.jsonl");
  const texts = corpus.queries.map((q) => q.text);
  const sides = ["ours", "bm25s", "anserini"] as const;
  const build: Record<(typeof sides)[number], number[]> = { ours: [], bm25s: [], anserini: [] };
  const bytes: Record<string, number> = {};
  const p50: Record<string, number[]> = { ours: [], oursSearch: [], bm25s: [], anserini: [] };
  const all: Record<string, number[]> = { ours: [], oursSearch: [], bm25s: [], anserini: [] };
  const runs: Record<string, string[][]> = {};
  let ours: Bm25Index | undefined;
  const run = {
    ours: async (r: number) => {
      const t0 = performance.now();
      ours = await Bm25Index.fromDocuments(corpus.documents, { k1: K1, b: B });
      build.ours.push(performance.now() - t0);
      const dir = path.join(tmp, `ours-${r}`);
      await ours.save(dir);
      bytes.ours = dirBytes(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      const times: number[] = [];
      const ids: string[][] = [];
      const byIdOnTies: string[][] = [];
      for (const q of texts) {
        const t = performance.now();
        const hits = await ours.recall(q, K);
        times.push(performance.now() - t);
        if (r === 0) {
          ids.push(hits.map((h) => h.document.id as string));
          // Anserini's SimpleSearcher breaks score ties by the id string; ours by insertion order (as plain Lucene).
          const sorted = hits.map((h) => ({ id: h.document.id as string, score: h.score }));
          sorted.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
          byIdOnTies.push(sorted.map((h) => h.id));
        }
      }
      if (r === 0) {
        runs.ours = ids;
        runs.oursByIdOnTies = byIdOnTies;
      }
      // The like-for-like of bm25s' retrieve (document numbers and scores, no Documents): Bm25Index.search.
      const numbers: number[] = [];
      for (const q of texts) {
        const t = performance.now();
        ours.search(q, K);
        numbers.push(performance.now() - t);
      }
      if (r >= 0) {
        p50.oursSearch.push(median(numbers));
        all.oursSearch.push(...numbers);
      }
      return times;
    },
    bm25s: async (r: number) => {
      const b = await bm25s.call<{ ms: number; bytes: number }>("bm25s.build", {
        corpus: corpusFile,
        k1: K1,
        b: B,
        save: path.join(tmp, "bm25s"),
      });
      build.bm25s.push(b.ms);
      bytes.bm25s = b.bytes;
      const s = await bm25s.call<{ ms: number[]; docids: string[][] }>("bm25s.search", {
        queries: texts,
        k: K,
        ids: r === 0,
      });
      if (r === 0) runs.bm25s = s.docids;
      return s.ms;
    },
    anserini: async (r: number) => {
      const index = path.join(tmp, "anserini-index");
      fs.rmSync(index, { recursive: true, force: true });
      const b = await anserini.call<{ ms: number; bytes: number }>("anserini.build", {
        input: corpus.folder,
        index,
        threads: 1,
      });
      build.anserini.push(b.ms);
      bytes.anserini = b.bytes;
      await anserini.call("anserini.open", { index, k1: K1, b: B });
      // JIT warm-up on this index before the timed pass (ours and bm25s need none; V8/numpy are warm from round 0).
      if (r === 0) await anserini.call("anserini.search", { queries: texts.slice(0, 50), k: K });
      const s = await anserini.call<{ ms: number[]; docids: string[][] }>("anserini.search", {
        queries: texts,
        k: K,
        ids: r === 0,
      });
      if (r === 0) runs.anserini = s.docids;
      return s.ms;
    },
  };
  // Warm-up round for ours and bm25s (imports, JIT), not counted.
  await run.ours(-1);
  await run.bm25s(-1);
  build.ours.length = 0;
  build.bm25s.length = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(i + r) % sides.length];
      const times = await run[side](r);
      p50[side].push(median(times));
      all[side].push(...times);
    }
  }
  const qps = (side: string) => (all[side].length / all[side].reduce((a, b) => a + b, 0)) * 1000;
  const p95 = (side: string) => quantile(all[side], 0.95);
  const oursLabel = "Bm25Index (EnglishAnalyzer, Lucene length quantisation)";
  const peers = {
    bm25s: { label: "bm25s 0.3.16 (numpy backend, PyStemmer)", threads: "1" },
    anserini: {
      label: `Anserini ${ANSERINI_VERSION} SimpleSearcher (Pyserini's LuceneSearcher), Java 25`,
      threads: "1 (indexing -threads 1)",
    },
  } as const;
  for (const peer of ["bm25s", "anserini"] as const) {
    report({
      section: "bm25",
      what: `${corpus.documents.length} docs, index build (analysis included)`,
      unit: "ms",
      ours: { label: oursLabel, threads: "1", values: build.ours },
      peer: { label: peers[peer].label, threads: peers[peer].threads, values: build[peer] },
      target: 1.0,
      extra: `index bytes on disk: ours ${(bytes.ours / 1e6).toFixed(1)} MB (documents included), ${peer} ${(bytes[peer] / 1e6).toFixed(1)} MB`,
    });
    report({
      section: "bm25",
      what: `${corpus.documents.length} docs, query p50, ranking only (top ${K} numbers + scores, ${texts.length} queries one at a time)`,
      unit: "ms",
      ours: { label: "Bm25Index.search (query analysis included)", threads: "1", values: p50.oursSearch },
      peer: { label: peers[peer].label, threads: "1", values: p50[peer] },
      target: 1.0,
      extra: `p95 ours ${p95("oursSearch").toFixed(3)} ms, ${peer} ${p95(peer).toFixed(3)} ms; QPS ours ${qps("oursSearch").toFixed(0)}, ${peer} ${qps(peer).toFixed(0)}`,
    });
    report({
      section: "bm25",
      what: `${corpus.documents.length} docs, query p50, top ${K} as Documents (RecallSource.recall, the retriever's path)`,
      unit: "ms",
      ours: { label: "Bm25Index.recall (new Document copies)", threads: "1", values: p50.ours },
      peer: { label: peers[peer].label, threads: "1", values: p50[peer] },
      target: 1.0,
      extra: `p95 ours ${p95("ours").toFixed(3)} ms, ${peer} ${p95(peer).toFixed(3)} ms; QPS ours ${qps("ours").toFixed(0)}, ${peer} ${qps(peer).toFixed(0)}`,
    });
  }
  if (corpus.qrels) {
    const q = Object.fromEntries(["ours", "bm25s", "anserini"].map((s) => [s, quality(runs[s], corpus)]));
    const line = (s: string) => `${s} nDCG@10 ${q[s].ndcg.toFixed(4)} Recall@100 ${q[s].recall.toFixed(4)}`;
    const dN = Math.abs(q.ours.ndcg - q.anserini.ndcg);
    const dR = Math.abs(q.ours.recall - q.anserini.recall);
    console.log(
      `quality (live runs, top ${K}): ${line("ours")} | ${line("anserini")} | ${line("bm25s")} → ours vs Anserini |Δ| ${dN.toFixed(4)} / ${dR.toFixed(4)} (target ≤ 0.003: ${dN <= 0.003 && dR <= 0.003 ? "met" : "MISSED"})`,
    );
    const same = (run: string[][]) =>
      run.filter((r, i) => r.slice(0, 10).join() === runs.anserini[i].slice(0, 10).join()).length;
    console.log(
      `  top-10 lists identical to Anserini's on ${same(runs.ours)}/${texts.length} queries ` +
        `(${same(runs.oursByIdOnTies)}/${texts.length} with ties broken by the id string, as Anserini does; ` +
        `the difference, token by token: peers/bm25_vs_anserini)`,
    );
  }
}

export async function compareBm25(s: Bm25Settings, tmp: string): Promise<void> {
  const bm25s = PeerProcess.python("bm25s");
  const anserini = anseriniPeer();
  try {
    const v = await anserini.call<{ java: string; lucene: string }>("anserini.versions");
    console.log(
      `\n# Anserini ${ANSERINI_VERSION} on Java ${v.java}, Lucene ${v.lucene}; bm25s venv ${path.join(PEERS_CACHE, "venv-bm25s")}`,
    );
    await compareOn(scifactCorpus(tmp), s.rounds, bm25s, anserini, tmp);
    if (s.large > 0)
      await compareOn(largeCorpus(tmp, s.large), Math.max(1, Math.min(s.rounds, 2)), bm25s, anserini, tmp);
  } finally {
    bm25s.close();
    anserini.close();
  }
}
