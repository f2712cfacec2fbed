// Loads the hybrid index in `dir` (version `version`), updates it to version + 1 (delete, upserts, an add) and
// saves it, killing itself with SIGKILL at save step `killAt` (0: never; then it prints the steps as JSON). Used by
// index_update.int.test.ts.
import { directoryOps } from "../../src/recall/index_folder/atomic_directory.js";
import { loadStage1, saveStage1 } from "../../src/recall/stage1_folder.js";
import { HASH_EMBEDDINGS, updateToNext } from "./update_store.js";

const [dir, version, killAt] = process.argv.slice(2);
const { parts } = await loadStage1(dir, { embeddings: HASH_EMBEDDINGS });
await updateToNext(parts, Number(version));
const steps: string[] = [];
directoryOps.step = (name) => {
  steps.push(name);
  if (steps.length === Number(killAt)) process.kill(process.pid, "SIGKILL");
};
await saveStage1(dir, parts, { version: Number(version) + 1 });
process.stdout.write(JSON.stringify(steps));
