// Updating a saved index: kill -9 at every step of saving an update (a delete, 39 upserts and an add on a hybrid)
// leaves the old or the new index whole, never a mix; `two-stage index --update` re-embeds only the files that
// changed or were added and removes the documents of files that are gone.
import fs from "node:fs";
import path from "node:path";

import { Bm25Index, FaissVectorStore } from "../src/index.js";
import { loadStage1, saveStage1 } from "../src/recall/stage1_folder.js";
import { crashChild } from "./support/child_bundle.js";
import { cliRunner } from "./support/cli.js";
import { TEST_CORPUS } from "./support/corpus.js";
import { HASH_EMBEDDINGS, buildVersion, versionDocuments, versionIds } from "./support/update_store.js";

const { scratch, run: runChild } = crashChild("update_crash_child", "two-stage-update-");

/**
 * Loads `dir` and returns the version it holds, checking that it is one version whole: FAISS and BM25 hold exactly
 * that version's ids in order, every text is that version's, and every stored vector is found under its own id (the
 * id array in step with the vectors faiss renumbered).
 */
async function wholeVersion(dir: string): Promise<number> {
  const { parts } = await loadStage1(dir, { embeddings: HASH_EMBEDDINGS });
  const store = parts.store!;
  const bm25 = parts.bm25!;
  const ids = store.ids();
  const version = Number(/^d(\d+)$/.exec(ids[0])![1]);
  expect(ids).toEqual(versionIds(version));
  expect(bm25.ids()).toEqual(ids);
  expect(store.loadReport?.verified).toBe(true);
  const expected = versionDocuments(version);
  const vectors = await HASH_EMBEDDINGS.embedDocuments(expected.map((doc) => doc.pageContent));
  for (const [i, doc] of expected.entries()) {
    const [[found, score]] = await store.similaritySearchVectorWithScore(vectors[i], 1);
    expect(found.id).toBe(doc.id);
    expect(found.pageContent).toBe(doc.pageContent);
    expect(score).toBeCloseTo(1, 5);
    const [lexical] = await bm25.recall(doc.id!, 1, { id: doc.id });
    expect(lexical.document.pageContent).toBe(doc.pageContent);
  }
  return version;
}

describe("kill -9 during an update", () => {
  test("at every step of saving a delete + upserts + add, load finds the old or the new index whole", async () => {
    const dir = path.join(scratch, "hybrid");
    await saveStage1(dir, await buildVersion(0));
    const probe = runChild(dir, 0, 0);
    expect(probe.stderr).toBe("");
    expect(probe.status).toBe(0);
    const steps = JSON.parse(probe.stdout) as string[];
    expect(steps.length).toBeGreaterThanOrEqual(20);
    expect(await wholeVersion(dir)).toBe(1);
    const commit = steps.indexOf("committed") + 1;
    expect(commit).toBeGreaterThan(0);

    let current = 1;
    const outcomes: string[] = [];
    for (let killAt = 1; killAt <= steps.length; killAt++) {
      const child = runChild(dir, current, killAt);
      expect(child.signal).toBe("SIGKILL");
      const found = await wholeVersion(dir);
      expect(found).toBe(killAt < commit ? current : current + 1);
      outcomes.push(`${killAt}:${steps[killAt - 1]}→${found === current ? "old" : "new"}`);
      current = found;
    }
    // The next update (not killed) cleans what the killed ones left: one data folder remains.
    expect(runChild(dir, current, 0).status).toBe(0);
    expect(await wholeVersion(dir)).toBe(current + 1);
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("data-"))).toHaveLength(1);
    process.stdout.write(`update kill points (${steps.length}):\n${outcomes.join("\n")}\n`);
  }, 600_000);
});

describe("two-stage index --update", () => {
  const root = path.join(scratch, "cli");
  const docs = path.join(root, "docs");
  const out = path.join(root, "index");
  const cli = cliRunner(root);
  const file = (name: string, paragraphs: number, from = 0) =>
    fs.writeFileSync(
      path.join(docs, name),
      Array.from({ length: paragraphs }, (_, i) => TEST_CORPUS[(from + i) % TEST_CORPUS.length]).join("\n\n"),
    );
  /** Chunks per file, from the index itself. */
  const chunksBySource = async () => {
    const store = await FaissVectorStore.load(out, HASH_EMBEDDINGS);
    const bm25 = await Bm25Index.load(out);
    expect(bm25.ids()).toEqual(store.ids());
    const counts: Record<string, number> = {};
    for (const id of store.ids()) {
      const source = id.slice(0, id.lastIndexOf("#"));
      counts[path.basename(source)] = (counts[path.basename(source)] ?? 0) + 1;
    }
    return counts;
  };

  test("one file changed, one added, one removed: only those are embedded, the removed one's chunks go", async () => {
    fs.mkdirSync(docs, { recursive: true });
    file("a.md", 6, 0); // each paragraph ~70 characters; --chunk-size 150 gives about 3 chunks per file
    file("b.md", 6, 6);
    file("c.md", 6, 12);
    file("d.md", 4, 18);
    const modelFlags = ["--lexical-models", "--stage1", "hybrid", "--chunk-size", "150", "--chunk-overlap", "0"];
    const built = cli("index", docs, "--out", out, ...modelFlags, "--json");
    expect(built.stderr).not.toContain("Error");
    expect(built.status).toBe(0);
    const before = await chunksBySource();
    expect(Object.keys(before).sort()).toEqual(["a.md", "b.md", "c.md", "d.md"]);

    file("b.md", 9, 3); // changed: different paragraphs, more chunks
    fs.rmSync(path.join(docs, "c.md")); // removed
    file("e.md", 5, 7); // added
    const updated = cli("index", docs, "--out", out, "--update", "--chunk-size", "150", "--chunk-overlap", "0");
    expect(updated.status).toBe(0);
    const after = await chunksBySource();
    expect(Object.keys(after).sort()).toEqual(["a.md", "b.md", "d.md", "e.md"]);
    const embedded = after["b.md"] + after["e.md"];
    expect(embedded).toBeLessThan(Object.values(after).reduce((a, b) => a + b));
    const source = (name: string) => path.relative(process.cwd(), path.join(docs, name));
    expect(updated.stdout).toContain(
      `files 1 added (${source("e.md")}), 1 changed (${source("b.md")}), 1 removed (${source("c.md")}), 2 unchanged. ` +
        `Embedded ${embedded} chunks, deleted ${before["b.md"] + before["c.md"]};`,
    );
    expect(updated.stderr).toMatch(new RegExp(`embedding 100% ${embedded}/${embedded} `));

    // Nothing changed: nothing embedded; the JSON summary says the same.
    const again = cli("index", docs, "--out", out, "--update", "--chunk-size", "150", "--chunk-overlap", "0", "--json");
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).update).toMatchObject({
      filesAdded: [],
      filesChanged: [],
      filesRemoved: [],
      filesUnchanged: 4,
      chunksEmbedded: 0,
      chunksDeleted: 0,
    });
    expect(await chunksBySource()).toEqual(after);
    // The updated index answers as the library reads it: query finds the added file.
    const query = cli("query", out, "Gutenberg printing press literacy", "--recall-k", "5", "--top-k", "1", "--json");
    expect(query.status).toBe(0);
  }, 300_000);
});
