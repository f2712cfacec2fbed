import fs from "node:fs";
import path from "node:path";

import { FaissVectorStore } from "../src/index.js";
import { crashChild } from "./support/child_bundle.js";
import { CRASH_DIM, crashTestSize, crashTestStore } from "./support/crash_store.js";
import { randomUnitVectors } from "./support/random.js";
import { NO_EMBEDDINGS } from "./support/vector_stores.js";

const { scratch, run: runChild } = crashChild("crash_child", "two-stage-crash-");

/** Loads `dir` and returns the version it holds, checking it is whole: every document, checksums verified. */
async function loadedVersion(dir: string): Promise<number> {
  const store = await FaissVectorStore.load(dir, NO_EMBEDDINGS);
  expect(store.loadReport?.verified).toBe(true);
  const probe = Array.from(randomUnitVectors(1, CRASH_DIM, 99));
  const all = await store.similaritySearchVectorWithScore(probe, 1000);
  const version = all[0][0].metadata.version as number;
  expect(all.length).toBe(crashTestSize(version));
  for (const [doc] of all) expect(doc.pageContent.startsWith(`v${version} doc ${doc.metadata.i} `)).toBe(true);
  return version;
}

describe("crash-safe save: kill -9 at every step", () => {
  test("after a SIGKILL at each step of a save, load returns the old or the new index whole; the next save leaves nothing stray", async () => {
    const dir = path.join(scratch, "index");
    await crashTestStore(0).save(dir);
    // A full save over an existing index, to learn its steps.
    const probe = runChild(dir, 1, 0);
    expect(probe.status).toBe(0);
    const steps = JSON.parse(probe.stdout) as string[];
    expect(steps.length).toBeGreaterThanOrEqual(30);
    expect(steps).toEqual(
      expect.arrayContaining(["data-renamed", "manifest-written", "committed", "previous-removed"]),
    );
    expect(await loadedVersion(dir)).toBe(1);

    const outcomes: string[] = [];
    let current = 1;
    for (let killAt = 1; killAt <= steps.length; killAt++) {
      const next = current + 1;
      const child = runChild(dir, next, killAt);
      expect(child.signal).toBe("SIGKILL");
      const found = await loadedVersion(dir);
      expect([current, next]).toContain(found);
      outcomes.push(`${killAt}:${steps[killAt - 1]}→${found === next ? "new" : "old"}`);
      // The next save (in this process) removes what the killed one left; then only the index remains.
      current = next + 1;
      await crashTestStore(current).save(dir);
      const entries = fs.readdirSync(dir).sort();
      expect(entries.filter((name) => name.startsWith("data-"))).toHaveLength(1);
      expect(entries.filter((name) => !name.startsWith("data-"))).toEqual([
        ".two-stage.lock",
        "docstore.json",
        "faiss.index",
        "two-stage.json",
      ]);
      expect(fs.readdirSync(scratch)).toEqual(["index"]);
      expect(await loadedVersion(dir)).toBe(current);
    }
    // Kills before the commit rename keep the old index, kills after it give the new one.
    const commit = steps.indexOf("committed") + 1;
    outcomes.forEach((line, i) => expect(line.endsWith(i + 1 < commit ? "old" : "new")).toBe(true));
    process.stdout.write(`${steps.length} kill points:\n${outcomes.join("\n")}\n`);
  }, 600_000);

  test("a folder left by 0.1.0 killed between its two renames (only <dir>.old-*) is restored by load, which removes nothing; no save removes a sibling: nothing proves a .tmp-* one is ours", async () => {
    const dir = path.join(scratch, "legacy");
    await crashTestStore(7).save(dir);
    const aside = `${dir}.old-999999-1700000000000`; // no such process
    fs.renameSync(dir, aside);
    const staging = `${dir}.tmp-999998-1700000000001`;
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, "faiss.index"), "partial");
    fs.writeFileSync(path.join(staging, "two-stage.json"), "{}");
    // A user's folder named like a leftover, without our manifest: never touched.
    const lookalike = `${dir}.tmp-999997-1700000000002`;
    fs.mkdirSync(lookalike);
    fs.writeFileSync(path.join(lookalike, "report.csv"), "mine");
    expect(await loadedVersion(dir)).toBe(7);
    const siblings = () =>
      fs
        .readdirSync(scratch)
        .filter((name) => name.startsWith("legacy"))
        .sort();
    expect(siblings()).toEqual(["legacy", path.basename(lookalike), path.basename(staging)]);
    await crashTestStore(8).save(dir);
    expect(siblings()).toEqual(["legacy", path.basename(lookalike), path.basename(staging)]);
    expect(fs.readFileSync(path.join(lookalike, "report.csv"), "utf8")).toBe("mine");
    fs.rmSync(lookalike, { recursive: true });
  });
});
