import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError } from "../errors.js";

/** One document of a BEIR corpus. */
export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

/** One judged query. */
export interface BeirQuery {
  id: string;
  text: string;
}

/** A retrieval test collection in BEIR layout (`corpus.jsonl`, `queries.jsonl`, `qrels.tsv`). */
export interface BeirDataset {
  name: string;
  corpus: BeirDocument[];
  /** Queries with at least one positive judgment on a corpus document, in file order. */
  queries: BeirQuery[];
  /** query id → (document id → grade > 0). */
  qrels: Map<string, Map<string, number>>;
  /** Judgments naming documents missing from the corpus (ignored, counted here). */
  unknownDocumentJudgments: number;
  /** Judgments naming queries missing from queries.jsonl (ignored). */
  unknownQueryJudgments: number;
}

/** Parses a JSONL file; a malformed line is an error naming the file and the line number. */
export function readJsonl<T>(file: string): T[] {
  if (!fs.existsSync(file)) throw new InvalidArgumentError(`${file} does not exist.`);
  const out: T[] = [];
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (error) {
      throw new InvalidArgumentError(
        `${file}:${i + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)}). Each line must be one JSON object.`,
      );
    }
  });
  return out;
}

/**
 * Loads a BEIR-layout collection from `dir`. Graded judgments are kept (grade = the score column); judgments with
 * grade ≤ 0, or naming unknown documents or queries, are left out and counted.
 */
export function loadBeirDataset(dir: string): BeirDataset {
  const corpusFile = path.join(dir, "corpus.jsonl");
  const queriesFile = path.join(dir, "queries.jsonl");
  const qrelsFile = path.join(dir, "qrels.tsv");
  for (const file of [corpusFile, queriesFile, qrelsFile]) {
    if (!fs.existsSync(file)) {
      throw new InvalidArgumentError(
        `${file} is missing: a BEIR dataset folder holds corpus.jsonl, queries.jsonl and qrels.tsv.`,
      );
    }
  }
  const corpus = readJsonl<{ _id?: unknown; title?: unknown; text?: unknown }>(corpusFile).map((row, i) => {
    if (row._id === undefined || row._id === null)
      throw new InvalidArgumentError(`${corpusFile}: document ${i + 1} has no "_id".`);
    return {
      id: String(row._id),
      title: typeof row.title === "string" ? row.title : "",
      text: typeof row.text === "string" ? row.text : "",
    };
  });
  if (corpus.length === 0) throw new InvalidArgumentError(`${corpusFile} holds no documents.`);
  const allQueries = readJsonl<{ _id?: unknown; text?: unknown }>(queriesFile).map((row) => ({
    id: String(row._id),
    text: typeof row.text === "string" ? row.text : "",
  }));
  const docIds = new Set(corpus.map((d) => d.id));
  const queryIds = new Set(allQueries.map((q) => q.id));
  const qrels = new Map<string, Map<string, number>>();
  let unknownDocumentJudgments = 0;
  let unknownQueryJudgments = 0;
  fs.readFileSync(qrelsFile, "utf8")
    .split("\n")
    .forEach((line, i) => {
      const fields = line.trim().split(/\t|\s+/);
      if (line.trim() === "" || (i === 0 && fields[0] === "query-id")) return;
      const [queryId, docId, score] = fields.length >= 4 ? [fields[0], fields[2], fields[3]] : fields;
      const grade = Number(score);
      if (queryId === undefined || docId === undefined || !Number.isFinite(grade)) {
        throw new InvalidArgumentError(
          `${qrelsFile}:${i + 1}: expected 'query-id<TAB>corpus-id<TAB>score', got '${line}'.`,
        );
      }
      if (grade <= 0) return;
      if (!docIds.has(docId)) return void (unknownDocumentJudgments += 1);
      if (!queryIds.has(queryId)) return void (unknownQueryJudgments += 1);
      if (!qrels.has(queryId)) qrels.set(queryId, new Map());
      qrels.get(queryId)!.set(docId, grade);
    });
  const queries = allQueries.filter((q) => qrels.has(q.id));
  if (queries.length === 0) {
    throw new InvalidArgumentError(
      `${dir}: no query has a positive judgment on a corpus document; nothing can be evaluated.`,
    );
  }
  return {
    name: path.basename(path.resolve(dir)),
    corpus,
    queries,
    qrels,
    unknownDocumentJudgments,
    unknownQueryJudgments,
  };
}

/**
 * The text a document is indexed, embedded and reranked by: `title + " " + text`, trimmed (the text alone when the
 * document has no title). This is the rule of BEIR's dense models (`sentence_bert.py`, `sep = " "`), MTEB's
 * retrieval evaluator (`corpus_to_texts` with `sep = " "`) and Anserini's BEIR "flat" indexes (title and text as
 * one field), so figures compare with their published ones. One rule for every path (eval, BM25, the CLI's JSONL
 * input): a title repeated at the start of the text stays repeated, as in those evaluations.
 */
export function documentText(doc: BeirDocument): string {
  return doc.title ? `${doc.title} ${doc.text}`.trim() : doc.text.trim();
}
