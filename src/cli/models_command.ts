import { InvalidArgumentError } from "../errors.js";
import { defaultModelDirectory, listModelDirectory } from "../models/model_directory.js";
import { type ImportedModel, importModel } from "../models/model_import.js";
import { type ParsedArgs, optionalIntOption, stringOption } from "./args.js";
import { renderTable } from "./table.js";

/** What `two-stage models import` prints for one import. */
export function describeImport(imported: ImportedModel): string {
  const { facts } = imported;
  const what =
    facts.head.kind === "classifier"
      ? `cross-encoder (${facts.head.labels}-logit classifier)`
      : "embedding model (last_hidden_state)";
  const shape = [
    facts.architecture === "bert" ? "BERT" : "architecture from config.json",
    facts.layers !== undefined ? `${facts.layers} layers` : undefined,
    facts.hiddenSize !== undefined ? `hidden ${facts.hiddenSize}` : undefined,
    facts.heads !== undefined ? `${facts.heads} heads` : undefined,
    facts.vocabSize !== undefined ? `vocab ${facts.vocabSize}` : undefined,
  ]
    .filter(Boolean)
    .join(", ");
  const verb = { imported: "Imported", updated: "Updated", unchanged: "Already imported (unchanged)" }[imported.status];
  const member = imported.source.member ? ` (${imported.source.member})` : "";
  const flag = imported.task === "text-classification" ? "--reranker-model" : "--embedding-model";
  const lines = [
    `${verb}: ${imported.id}${imported.idReason ? ` (id: ${imported.idReason})` : ""}`,
    `  from:    ${imported.source.artifact}${member}`,
    ...(imported.source.sha256 ? [`  sha256:  ${imported.source.sha256}`] : []),
    `  into:    ${imported.dir}`,
    `  model:   ${what}; ${shape}`,
    `  onnx:    ${imported.variants
      .map((v) => `onnx/${v} (${v === "model.onnx" ? "fp32: load with quantized: false" : "int8: the default"})`)
      .join(", ")}`,
    ...(imported.derivedFiles.length > 0
      ? [`  written: ${imported.derivedFiles.join(", ")} (from the graph and the profile)`]
      : []),
    `  use:     ${flag} ${imported.id} --offline`,
  ];
  return lines.join("\n");
}

/** `two-stage models import <artifact> [--id] [--member] [--tokenizer] [--force] [--max-bytes]` and `models list`. */
export async function modelsCommand(args: ParsedArgs): Promise<void> {
  const [sub, ...rest] = args.positionals;
  const json = args.options.has("json");
  if (sub === "list") {
    const root = defaultModelDirectory();
    const models = listModelDirectory(root);
    if (json) {
      process.stdout.write(`${JSON.stringify({ modelDirectory: root, models }, null, 2)}\n`);
      return;
    }
    const rows = models.map((m) => [m.id, m.imported ? "imported" : "other", m.variants.join(", ") || "(no onnx)"]);
    process.stdout.write(
      `Model directory: ${root}\n${rows.length > 0 ? renderTable(["model", "origin", "onnx"], rows) : "(no models yet: two-stage models import <artifact>)"}\n`,
    );
    return;
  }
  if (sub !== "import" || rest.length !== 1) {
    throw new InvalidArgumentError(
      `Usage: two-stage models import <.jar|.whl|.zip|folder|.onnx> [--id <org/name>] [--member <path>] [--force], ` +
        `or two-stage models list; got '${args.positionals.join(" ")}'.`,
    );
  }
  const maxBytes = optionalIntOption(args, "max-bytes");
  const imported = await importModel(rest[0], {
    id: stringOption(args, "id"),
    member: stringOption(args, "member"),
    tokenizer: stringOption(args, "tokenizer"),
    force: args.options.has("force"),
    maxUncompressedBytes: maxBytes,
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(imported, null, 2)}\n`);
  } else {
    process.stdout.write(`${describeImport(imported)}\n`);
  }
}
