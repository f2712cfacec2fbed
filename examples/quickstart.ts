// Notebook-style quickstart: build a two-stage retriever over a handful of texts, ask a question, and see what
// each stage did. Run: npx tsx examples/quickstart.ts
import type { DocumentInterface } from "@langchain/core/documents";

import { TwoStageRetriever } from "two-stage-retriever";
import { exampleModels, isMain } from "./models.js";

export const QUICKSTART_TEXTS = [
  "Tides are caused mainly by the gravitational pull of the Moon on the oceans, with a smaller effect from the Sun.",
  "The Moon orbits the Earth roughly every 27 days and always shows the same face.",
  "Ocean currents move heat from the equator toward the poles.",
  "Spring tides happen when the Sun and Moon line up; neap tides when they are at right angles.",
  "Sea level has risen about 20 centimetres since 1900.",
  "Surfers watch swell forecasts, which depend on distant storms rather than tides.",
];
export const QUICKSTART_QUESTION = "Why do the oceans have tides?";

export async function quickstart(): Promise<DocumentInterface[]> {
  const { embeddings, compressor } = exampleModels();
  // Stage 1 embeds the texts once into FAISS; stage 2 reranks the recallK candidates with a cross-encoder.
  const retriever = await TwoStageRetriever.fromTexts(
    QUICKSTART_TEXTS,
    QUICKSTART_TEXTS.map((_, i) => ({ source: `note-${i + 1}` })),
    { embeddings, compressor, recallK: 5, topK: 3 },
  );
  const docs = await retriever.invoke(QUICKSTART_QUESTION);
  console.log(`Q: ${QUICKSTART_QUESTION}`);
  for (const doc of docs) {
    const m = doc.metadata;
    console.log(
      `#${m.rerankRank}  stage 1 rank ${m.recallRank} → stage 2 rank ${m.rerankRank}  ` +
        `cosine ${Number(m.recallScore).toFixed(3)}  relevance ${Number(m.relevanceScore).toFixed(3)}  ${doc.pageContent}`,
    );
  }
  await Promise.all([embeddings.dispose(), compressor.dispose()]);
  return docs;
}

if (isMain(import.meta.url)) await quickstart();
