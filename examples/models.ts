import { CrossEncoderCompressor, TransformersEmbeddings, TwoStageRetriever } from "two-stage-retriever";

/**
 * The models the examples use: the default hub models, or local directories named by environment variables
 * (TWO_STAGE_EMBEDDING_MODEL, TWO_STAGE_RERANKER_MODEL), e.g. models downloaded for offline use or the project's
 * own test models.
 */
export function exampleModels(): { embeddings: TransformersEmbeddings; compressor: CrossEncoderCompressor } {
  return {
    embeddings: new TransformersEmbeddings({
      model: process.env.TWO_STAGE_EMBEDDING_MODEL ?? "Xenova/bge-small-en-v1.5",
    }),
    compressor: new CrossEncoderCompressor({
      model: process.env.TWO_STAGE_RERANKER_MODEL ?? "Xenova/ms-marco-MiniLM-L-6-v2",
    }),
  };
}

/** True when this module is the script node/tsx was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && new URL(moduleUrl).pathname === process.argv[1];
}

/** The notes every example searches, each with a `source` the answers cite. */
export async function notesRetriever(
  texts: string[],
  topK: number,
): Promise<{ retriever: TwoStageRetriever; dispose: () => Promise<void> }> {
  const { embeddings, compressor } = exampleModels();
  const retriever = await TwoStageRetriever.fromTexts(
    texts,
    texts.map((_, i) => ({ source: `note-${i + 1}` })),
    { embeddings, compressor, recallK: 5, topK },
  );
  return { retriever, dispose: async () => void (await Promise.all([embeddings.dispose(), compressor.dispose()])) };
}
