import fs from "node:fs";
import path from "node:path";

import { Document } from "@langchain/core/documents";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";

import { InvalidArgumentError } from "../errors.js";
import { documentText, readJsonl } from "../eval/beir_dataset.js";

const TEXT_EXTENSIONS = new Set([".txt", ".md", ".markdown"]);

/** Files named on the command line, folders expanded (recursively) to their .txt/.md/.jsonl files, sorted. */
export function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  const visit = (entry: string) => {
    if (!fs.existsSync(entry)) throw new InvalidArgumentError(`Input '${entry}' does not exist.`);
    if (fs.statSync(entry).isDirectory()) {
      for (const name of fs.readdirSync(entry).sort()) visit(path.join(entry, name));
      return;
    }
    const ext = path.extname(entry).toLowerCase();
    if (TEXT_EXTENSIONS.has(ext) || ext === ".jsonl") files.push(entry);
  };
  inputs.forEach(visit);
  if (files.length === 0) {
    throw new InvalidArgumentError(`No .txt, .md or .jsonl files in: ${inputs.join(", ")}.`);
  }
  return files;
}

/**
 * Reads inputs as Documents with a stable `metadata.docId`: .txt/.md files are split into chunks
 * (`<file>#<n>`); .jsonl lines are records kept whole (`_id`/`id`, `title`, `text` or `pageContent`; BEIR corpora
 * load as they are, so their ids match the judgments). A malformed line is an error naming file and line.
 */
export async function readInputDocuments(
  inputs: string[],
  chunkSize: number,
  chunkOverlap: number,
): Promise<Document[]> {
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize, chunkOverlap });
  const docs: Document[] = [];
  for (const file of expandInputs(inputs)) {
    const source = path.relative(process.cwd(), file) || file;
    if (path.extname(file).toLowerCase() === ".jsonl") {
      readJsonl<Record<string, unknown>>(file).forEach((row, i) => {
        const id = row._id ?? row.id ?? `${source}:${i + 1}`;
        const text =
          typeof row.pageContent === "string"
            ? row.pageContent
            : documentText({
                id: String(id),
                title: typeof row.title === "string" ? row.title : "",
                text: typeof row.text === "string" ? row.text : "",
              });
        if (text.trim() === "") return;
        docs.push(new Document({ pageContent: text, metadata: { docId: String(id), source } }));
      });
      continue;
    }
    const chunks = await splitter.splitText(fs.readFileSync(file, "utf8"));
    chunks.forEach((chunk, i) =>
      docs.push(new Document({ pageContent: chunk, metadata: { docId: `${source}#${i + 1}`, source, chunk: i + 1 } })),
    );
  }
  if (docs.length === 0) throw new InvalidArgumentError(`The inputs hold no text: ${inputs.join(", ")}.`);
  return docs;
}
