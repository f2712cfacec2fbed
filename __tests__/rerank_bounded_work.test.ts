import { CrossEncoderCompressor } from "../src/index.js";
import { headTokens } from "../src/rerank/cross_encoder_compressor.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { buildTestModels, countingCrossEncoder } from "./support/models.js";

const models = buildTestModels();
afterAll(() => models.cleanup());

const QUERY = "how do honeybees communicate with a waggle dance";
/** About 5 MB of ordinary text: the test corpus repeated. */
const HUGE = TEST_CORPUS.join("\n")
  .repeat(Math.ceil(5_000_000 / TEST_CORPUS.join("\n").length))
  .slice(0, 5_000_000);

/** Longest gap between ticks of a 1 ms interval while `work` runs: how long the event loop was blocked. */
async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  longest = Math.max(longest, performance.now() - last);
  return longest;
}

describe("bounded per-query work: a huge document costs what a normal one does", () => {
  test("the bounded head gives exactly the first tokens of the whole text, for budgets up to 8 windows", async () => {
    const { tokenizer } = await countingCrossEncoder(models.crossEncoder);
    const text = HUGE.slice(0, 400_000);
    const full = tokenizer.encode(text, null, { add_special_tokens: false });
    for (const budget of [1, 17, 500, 3_000])
      expect(headTokens(tokenizer, text, budget)).toEqual(full.slice(0, budget));
    // Words of 119 characters (one [UNK] each, 120 characters per token): the head grows ×4 twice, still exact.
    const blob = `${"x".repeat(119)} `.repeat(2_000);
    const blobFull = tokenizer.encode(blob, null, { add_special_tokens: false });
    expect(headTokens(tokenizer, blob, 100)).toEqual(blobFull.slice(0, 100));
    // Past 128 characters per token the read stops at budget × 128 characters (documented): fewer tokens, bounded.
    const wider = `${"x".repeat(150)} `.repeat(2_000);
    expect(headTokens(tokenizer, wider, 100).length).toBe(Math.floor((100 * 128) / 151));
  });

  test.each(["truncate", "maxPassage"] as const)(
    "%s: a 5 MB document among 100 candidates blocks the event loop < 50 ms and scores as its head does",
    async (longDocuments) => {
      // The model runs on the event loop too (onnxruntime-node's run is synchronous here), one batch at a time:
      // maxBatchTokens bounds that part; headTokens bounds the tokenization of the 5 MB document.
      const reranker = new CrossEncoderCompressor({
        model: models.crossEncoder,
        longDocuments,
        maxPassages: 3,
        maxBatchTokens: 2048,
      });
      const texts = Array.from({ length: 100 }, (_, i) => TEST_CORPUS[i % TEST_CORPUS.length] + ` (${i})`);
      texts[37] = HUGE;
      await reranker.score(QUERY, ["warm up the model"]);
      // The least of 3 runs: on a shared machine a run can be descheduled, which a 1 ms timer also sees as a block.
      const blocks: number[] = [];
      const prepareBlocks: number[] = [];
      let scores: number[] = [];
      for (let run = 0; run < 3; run++) {
        blocks.push(await longestBlock(async () => (scores = await reranker.score(QUERY, texts))));
        prepareBlocks.push(reranker.lastStats!.maxBlockMs);
      }
      const block = Math.min(...blocks);
      expect(Math.min(...prepareBlocks)).toBeLessThan(50);
      expect(block).toBeLessThan(50);
      // Only the head is read: the 5 MB document scores exactly as its first 200 kB (also longer than what is read).
      const [head] = await reranker.score(QUERY, [HUGE.slice(0, HUGE.indexOf(" ", 200_000))]);
      expect(scores[37]).toBeCloseTo(head, 6);
      expect(reranker.lastStats!.pairs).toBe(longDocuments === "maxPassage" ? 3 : 1);
      process.stdout.write(
        `${longDocuments}: longest event-loop block ${blocks.map((b) => b.toFixed(1)).join(" / ")} ms (tokenizing: ${prepareBlocks.map((b) => b.toFixed(1)).join(" / ")} ms)\n`,
      );
    },
  );

  test("maxPassages is validated and documented by its default", () => {
    expect(new CrossEncoderCompressor().maxPassages).toBe(8);
    expect(() => new CrossEncoderCompressor({ maxPassages: 0 })).toThrow(/maxPassages must be a positive integer/);
  });
});
