import { Document } from "@langchain/core/documents";

import { checkTextsAndMetadatas } from "../validation.js";
import { copyMetadata } from "./copy_document.js";

/**
 * Documents from texts and metadata (one object per text, or one for all), as LangChain's `fromTexts` factories
 * take them, checked first (texts must be strings, metadata objects). Each document gets its own deep copy of the metadata.
 */
export function documentsFromTexts(texts: readonly string[], metadatas: object[] | object = {}): Document[] {
  checkTextsAndMetadatas(texts, metadatas);
  return texts.map(
    (text, i) =>
      new Document({
        pageContent: text,
        metadata: copyMetadata((Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown>),
      }),
  );
}
