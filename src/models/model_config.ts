import type { ModelConfigLimits } from "../inference/sequence_model.js";

export type { ModelConfigLimits } from "../inference/sequence_model.js";

/**
 * Families whose position ids start after the padding index (`create_position_ids_from_input_ids` in transformers):
 * of `max_position_embeddings` rows, `pad_token_id + 1` are never used for tokens. XLM-R's 514 positions hold 512.
 */
const PADDING_OFFSET_POSITIONS = new Set([
  "roberta",
  "xlm-roberta",
  "xlm-roberta-xl",
  "camembert",
  "mpnet",
  "data2vec-text",
  "longformer",
]);

/** The longest token sequence a model's position embeddings cover, or undefined when its config does not say. */
export function positionLimit(config: ModelConfigLimits | undefined): number | undefined {
  const positions = config?.max_position_embeddings;
  if (typeof positions !== "number" || !Number.isFinite(positions) || positions <= 0) return undefined;
  if (config?.model_type && PADDING_OFFSET_POSITIONS.has(config.model_type)) {
    return positions - ((config.pad_token_id ?? 1) + 1);
  }
  return positions;
}
