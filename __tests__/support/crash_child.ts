// Saves version `version` of a test index into `dir`, killing itself with SIGKILL at save step `killAt` (0: never;
// then it prints the steps it went through as JSON). Used by crash_safety.int.test.ts.
import { directoryOps } from "../../src/recall/index_folder/atomic_directory.js";
import { crashTestStore } from "./crash_store.js";

const [dir, version, killAt] = process.argv.slice(2);
const store = crashTestStore(Number(version));
const steps: string[] = [];
directoryOps.step = (name) => {
  steps.push(name);
  if (steps.length === Number(killAt)) process.kill(process.pid, "SIGKILL");
};
await store.save(dir);
process.stdout.write(JSON.stringify(steps));
