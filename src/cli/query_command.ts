import { InvalidArgumentError } from "../errors.js";
import type { ParsedArgs } from "./args.js";
import { describeModels } from "./models.js";
import { openIndex } from "./open_index.js";
import { explanationJson, print, renderExplanation } from "./output.js";

/** `two-stage query <index> "question" [--recall-k N] [--top-k N]` */
export async function queryCommand(args: ParsedArgs): Promise<void> {
  const [dir, ...words] = args.positionals;
  const question = words.join(" ").trim();
  if (!dir || !question)
    throw new InvalidArgumentError('query needs an index folder and a question: two-stage query <index> "question"');
  const json = args.options.has("json");
  const { retriever, choice, loadMs } = await openIndex(dir, args);
  process.stderr.write(`${describeModels(choice)}\n`);
  const explanation = await retriever.explain(question);
  print(
    json,
    { ...(explanationJson(explanation) as object), loadMs },
    `${renderExplanation(explanation, retriever.source.scoreKind)}\nmodels and index loaded in ${loadMs.toFixed(0)} ms (not counted in the stage timings)`,
  );
}
