import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { ModelLoadError } from "../errors.js";
import { MODEL_MANIFEST_FILE } from "./model_directory.js";

/** One file of an imported model folder. */
export interface ManifestFile {
  sha256: string;
  bytes: number;
  /** `artifact:<path in the artifact>` for a file taken from it, `derived` for one this package wrote. */
  origin: string;
}

/** One import that contributed files to the folder. */
export interface ManifestSource {
  /** The artifact as given (absolute path). */
  artifact: string;
  kind: "archive" | "folder" | "onnx";
  /** sha256 of the artifact file (archives and bare ONNX files; undefined for folders). */
  sha256?: string;
  /** The model's path inside the artifact (`""`: the artifact itself). */
  member: string;
  importedAt: string;
  /** The folder files this import wrote. */
  files: string[];
}

/** `two-stage-model.json`: proof that the folder is ours, and where each of its files came from. */
export interface ModelManifest {
  format: "two-stage-retriever/model";
  version: 1;
  id: string;
  task: "feature-extraction" | "text-classification";
  files: Record<string, ManifestFile>;
  sources: ManifestSource[];
  /** What was read off the ONNX graph and written into the files the artifact lacked. */
  derived: Record<string, unknown>;
}

/** sha256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** The manifest of a model folder, or undefined when the folder has none (it was not made by this package). */
export function readModelManifest(dir: string): ModelManifest | undefined {
  const file = path.join(dir, MODEL_MANIFEST_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as ModelManifest;
    if (manifest.format !== "two-stage-retriever/model" || typeof manifest.files !== "object") {
      throw new Error(`format ${JSON.stringify(manifest.format)} is not two-stage-retriever/model`);
    }
    return manifest;
  } catch (error) {
    throw new ModelLoadError(
      `${file} is not a readable model manifest (${error instanceof Error ? error.message : String(error)}). ` +
        "The folder was not written by this package as it is now: move it away and import the model again.",
      { cause: error },
    );
  }
}

/** Writes the manifest (into a staging folder: it is published with the folder's rename). */
export function writeModelManifest(dir: string, manifest: ModelManifest): void {
  fs.writeFileSync(path.join(dir, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The files of `dir` whose sha256 no longer matches the manifest (missing files count as changed). */
export async function changedFiles(dir: string, manifest: ModelManifest): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, file] of Object.entries(manifest.files)) {
    const full = path.join(dir, name);
    if (!fs.existsSync(full) || (await hashFile(full)).sha256 !== file.sha256) changed.push(name);
  }
  return changed;
}
