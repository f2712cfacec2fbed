import { randomUUID } from "node:crypto";

import type { DocumentInterface } from "@langchain/core/documents";

import { InvalidArgumentError } from "./errors.js";

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (typeof value === "bigint") return `the BigInt ${String(value)}n`;
  return typeof value;
}

function notPositiveInteger(name: string, value: unknown): InvalidArgumentError {
  const hint =
    typeof value === "string" && Number.isInteger(Number(value)) && value.trim() !== ""
      ? ` Pass a number (${Number(value)}), not a string.`
      : "";
  const got = typeof value === "number" ? String(value) : describeValue(value);
  return new InvalidArgumentError(`${name} must be a positive integer; got ${got}.${hint}`, { argument: name });
}

/** Throws unless `value` is a positive integer (an undefined value is an unset option and passes). */
export function positiveInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value <= 0)) {
    throw notPositiveInteger(name, value);
  }
}

/** Throws unless `value` is a positive integer; undefined is refused too (a required count, e.g. a search's `k`). */
export function requiredPositiveInteger(name: string, value: unknown): asserts value is number {
  if (value === undefined) {
    throw new InvalidArgumentError(`${name} is required: pass a positive integer.`);
  }
  positiveInteger(name, value);
}

/** Throws unless `query` is a non-empty string. */
export function checkQuery(query: unknown): asserts query is string {
  if (typeof query !== "string" || query.trim() === "") {
    throw new InvalidArgumentError(
      `query must be a non-empty string; got ${describeValue(query)}. Pass the user's question.`,
      { argument: "query" },
    );
  }
}

/**
 * Checks that `value` survives a JSON round trip unchanged in meaning: null, booleans, finite numbers, strings,
 * arrays and plain objects (and Dates, stored as their ISO string). Refused with the offending key path: cycles,
 * BigInt, functions, symbols, NaN/Infinity, class instances such as Map or Set (JSON would turn them into `{}`).
 * `undefined` object fields are dropped by JSON, as everywhere.
 */
export function checkJsonValue(value: unknown, where: string): void {
  const ancestors = new Set<object>();
  const visit = (node: unknown, at: string, depth: number): void => {
    if (node === null || typeof node === "string" || typeof node === "boolean" || node === undefined) return;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) {
        throw new InvalidArgumentError(
          `${at} is ${node}, which JSON cannot store (it would become null). Use a finite number or null.`,
        );
      }
      return;
    }
    if (typeof node !== "object") {
      throw new InvalidArgumentError(
        `${at} is a ${typeof node}, which JSON cannot store, so the index could not be saved. Convert it (e.g. a BigInt to a string) or drop it.`,
      );
    }
    if (node instanceof Date) {
      if (Number.isNaN(node.getTime())) {
        throw new InvalidArgumentError(
          `${at} is an invalid Date, which JSON stores as null. Pass a valid Date or drop it.`,
        );
      }
      return;
    }
    if (depth > 64) throw new InvalidArgumentError(`${at} is nested more than 64 levels deep; flatten the metadata.`);
    if (ancestors.has(node)) {
      throw new InvalidArgumentError(`${at} refers back to one of its parents (a cycle); JSON cannot store it.`);
    }
    const proto = Object.getPrototypeOf(node) as unknown;
    if (!Array.isArray(node) && proto !== Object.prototype && proto !== null) {
      const kind = (node as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new InvalidArgumentError(
        `${at} is a ${kind}, which JSON stores as {} (its content would be lost). Convert it to a plain object or array.`,
      );
    }
    ancestors.add(node);
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${at}[${i}]`, depth + 1));
    else {
      for (const [key, item] of Object.entries(node)) {
        visit(item, /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`, depth + 1);
      }
    }
    ancestors.delete(node);
  };
  visit(value, where, 0);
}

/** The longest delay Node's timers honour: 2³¹ − 1 ms (about 24.8 days). A longer one is clamped to 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Throws unless `value` is a whole number of milliseconds from 1 to {@link MAX_TIMER_MS} (an undefined value is an
 * unset option and passes). Every duration option goes through here: Node turns a timer past 2³¹ − 1 ms, NaN or a
 * non-positive delay into a 1 ms timer, so an out-of-range duration would fire at once instead of never.
 */
export function durationMs(name: string, value: unknown, unset = "omit it"): void {
  if (value === undefined) return;
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_TIMER_MS) return;
  const got = typeof value === "number" ? String(value) : describeValue(value);
  const hint =
    typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))
      ? ` Pass a number (${Number(value)}), not a string.`
      : typeof value === "number" && value > MAX_TIMER_MS
        ? ` Node fires a longer timer after 1 ms, so it would act at once; for no limit, ${unset}.`
        : "";
  throw new InvalidArgumentError(
    `${name} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS} (2^31 - 1, the longest timer Node ` +
      `supports); got ${got}.${hint}`,
    { argument: name },
  );
}

/**
 * Throws unless `documents` is an array of Documents (objects with a string `pageContent`); the message names the
 * first bad entry. Factories call it before they touch a document (ids, metadata).
 */
export function checkDocumentList(documents: unknown, name = "documents"): void {
  if (!Array.isArray(documents)) {
    throw new InvalidArgumentError(
      `${name} must be an array of Documents; got ${describeValue(documents)}. Pass e.g. ` +
        '[new Document({ pageContent: "…" })], or texts to fromTexts.',
      { argument: name },
    );
  }
  documents.forEach((doc: unknown, i) => {
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new InvalidArgumentError(
        `${name}[${i}] is ${describeValue(doc)}, not a Document. Pass { pageContent: "…", metadata: {} }.`,
        { argument: `${name}[${i}]` },
      );
    }
    const text = (doc as { pageContent?: unknown }).pageContent;
    if (typeof text !== "string") {
      throw new InvalidArgumentError(
        `${name}[${i}].pageContent is ${describeValue(text)}, not a string. Each document needs its text in pageContent.`,
        { argument: `${name}[${i}].pageContent` },
      );
    }
  });
}

/**
 * Throws unless `documents` can go into an index (every stage 1 that holds documents applies it): an array of
 * Documents ({@link checkDocumentList}) whose metadata is a plain object that survives a JSON round trip
 * ({@link checkJsonValue}), so what is accepted can always be saved and loaded.
 */
export function checkIndexDocuments(documents: unknown, name = "documents"): asserts documents is DocumentInterface[] {
  checkDocumentList(documents, name);
  (documents as DocumentInterface[]).forEach((doc, i) => {
    const metadata = doc.metadata as unknown;
    if (metadata !== undefined && (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))) {
      throw new InvalidArgumentError(
        `${name}[${i}].metadata is ${describeValue(metadata)}; pass a plain object (or omit it).`,
        { argument: `${name}[${i}].metadata` },
      );
    }
    checkJsonValue(metadata ?? {}, `${name}[${i}].metadata`);
  });
}

/**
 * The ids of a batch of documents: `ids[i]`, else the document's own `id`, else a random UUID. Refused with an
 * {@link InvalidArgumentError} (argument `ids`) unless `ids` (when given) has one entry per document and every id is
 * a non-empty string that is neither `taken` nor repeated in the batch. Every stage 1 that assigns ids applies it.
 */
export function batchIds(
  documents: readonly DocumentInterface[],
  ids: unknown,
  taken: (id: string) => boolean,
  holder: "index" | "store",
): string[] {
  if (ids !== undefined && (!Array.isArray(ids) || ids.length !== documents.length)) {
    throw new InvalidArgumentError(
      `ids must be an array with one id per document (${documents.length}); got ` +
        `${Array.isArray(ids) ? `${ids.length} ids` : describeValue(ids)}.`,
      { argument: "ids" },
    );
  }
  const given = ids as readonly unknown[] | undefined;
  const batch = new Set<string>();
  return documents.map((doc, i) => {
    const id: unknown = given?.[i] ?? doc.id ?? randomUUID();
    if (typeof id !== "string" || id === "") {
      throw new InvalidArgumentError(
        `The id of document ${i} is ${describeValue(id)}; ids must be non-empty strings.`,
        {
          argument: "ids",
        },
      );
    }
    if (taken(id) || batch.has(id)) {
      throw new InvalidArgumentError(
        batch.has(id)
          ? `Document id '${id}' appears twice in this batch. Ids must be unique; pass each document once.`
          : `Document id '${id}' is already in the ${holder}. Ids must be unique: pass another id, or replace the ` +
              `stored document with addDocuments(documents, { ids, upsert: true }) (or delete({ ids: ['${id}'] }) first).`,
        { argument: "ids" },
      );
    }
    batch.add(id);
    return id;
  });
}

/**
 * Throws unless `texts` is an array of strings; the message names the first bad entry. `wrap` shows how to pass a
 * single text (e.g. `score(query, [text])`).
 */
export function checkTextList(texts: unknown, wrap: string): asserts texts is string[] {
  if (!Array.isArray(texts)) {
    throw new InvalidArgumentError(
      `texts must be an array of strings; got ${describeValue(texts)}. Wrap a single text: ${wrap}.`,
      { argument: "texts" },
    );
  }
  texts.forEach((text: unknown, i) => {
    if (typeof text !== "string") {
      throw new InvalidArgumentError(`texts[${i}] is ${describeValue(text)}, not a string. Pass the document text.`, {
        argument: `texts[${i}]`,
      });
    }
  });
}

/** Throws unless `texts` is an array of strings and `metadatas` an object or an array of objects (one per text). */
export function checkTextsAndMetadatas(texts: unknown, metadatas: unknown): void {
  checkTextList(texts, 'fromTexts(["…"], …)');
  const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
  if (metadatas === undefined) return;
  if (Array.isArray(metadatas)) {
    metadatas.forEach((metadata: unknown, i) => {
      if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
        throw new InvalidArgumentError(
          `metadatas[${i}] is ${describeValue(metadata)}, not an object. Pass one metadata object per text, or one for all.`,
          { argument: `metadatas[${i}]` },
        );
      }
    });
  } else if (!isObject(metadatas)) {
    throw new InvalidArgumentError(
      `metadatas must be an object (shared by every text) or an array of objects (one per text); got ${describeValue(metadatas)}.`,
      { argument: "metadatas" },
    );
  }
}

/** Throws unless `value` is an integer ≥ 0 (an undefined value is an unset option and passes). */
export function nonNegativeInteger(name: string, value: unknown, meaningOfZero = ""): void {
  if (value === undefined) return;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return;
  const got = typeof value === "number" ? String(value) : describeValue(value);
  throw new InvalidArgumentError(
    `${name} must be a whole number ≥ 0${meaningOfZero ? ` (${meaningOfZero})` : ""}; got ${got}.`,
    { argument: name },
  );
}

/**
 * Throws unless `value` is a usable model name: a non-blank string (a hub id or a local folder). `""` would resolve to
 * the working directory and a number fails deep inside the loader, so both are refused here, naming `name`.
 */
export function checkModelName(name: string, value: unknown, example: string): asserts value is string {
  if (typeof value === "string" && value.trim() !== "") return;
  const got =
    typeof value === "string"
      ? `an empty string${value === "" ? "" : ` (${JSON.stringify(value)})`}`
      : describeValue(value);
  throw new InvalidArgumentError(
    `${name} must be a hub id (e.g. "${example}") or the path of a local model folder; got ${got}. Omit it for the ` +
      "default model.",
    { argument: name },
  );
}

/** Throws unless `upsert` is a boolean or undefined (then false). */
export function checkUpsert(upsert: unknown): boolean {
  if (upsert === undefined) return false;
  if (typeof upsert === "boolean") return upsert;
  throw new InvalidArgumentError(`upsert must be true or false; got ${describeValue(upsert)}.`, { argument: "upsert" });
}

/**
 * The ids of a `delete({ ids })` call, checked: an array of non-empty strings, each held (`has`); repeats count once.
 * Refused with an {@link InvalidArgumentError} (argument `ids`) naming the first bad or unknown ids, before anything
 * is deleted. Every stage 1 that deletes applies it.
 */
export function checkDeleteIds(params: unknown, has: (id: string) => boolean, holder: "index" | "store"): string[] {
  const ids = (params as { ids?: unknown } | undefined)?.ids;
  if (!Array.isArray(ids)) {
    throw new InvalidArgumentError(
      `delete takes { ids: string[] }; got ${params === undefined ? "no argument" : `ids ${describeValue(ids)}`}. ` +
        'Pass the ids of the documents to remove, e.g. delete({ ids: ["doc-1"] }).',
      { argument: "ids" },
    );
  }
  ids.forEach((id: unknown, i) => {
    if (typeof id !== "string" || id === "") {
      throw new InvalidArgumentError(`ids[${i}] is ${describeValue(id)}; ids are non-empty strings.`, {
        argument: "ids",
      });
    }
  });
  const unique = [...new Set(ids as string[])];
  const unknown = unique.filter((id) => !has(id));
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 5)
      .map((id) => `'${id}'`)
      .join(", ");
    throw new InvalidArgumentError(
      `${unknown.length} of the ids to delete ${unknown.length === 1 ? "is" : "are"} not in the ${holder} ` +
        `(${shown}${unknown.length > 5 ? ", …" : ""}); nothing was deleted. Pass only ids the ${holder} holds.`,
      { argument: "ids" },
    );
  }
  return unique;
}
