import { spawnSync } from "node:child_process";
import path from "node:path";

import { type BadCall, badCalls, outcome } from "./support/bad_inputs.js";

describe("every public entry validates before native code", () => {
  let table: Awaited<ReturnType<typeof badCalls>>;
  beforeAll(async () => {
    table = await badCalls();
  });
  afterAll(() => table.cleanup());

  test("each bad value raises a typed error (InvalidArgumentError or IndexError), never a raw one", async () => {
    const results: [string, string][] = [];
    for (const call of table.calls as BadCall[]) results.push([call.name, await outcome(call)]);
    expect(results).toEqual(table.calls.map((call) => [call.name, call.code]));
    expect(table.calls.length).toBeGreaterThanOrEqual(60);
    expect(table.store.size).toBe(3); // no refused call added anything
    const [[doc]] = await table.store.similaritySearchVectorWithScore([1, 0, 0, 0], 1);
    expect(doc.pageContent).toBe("a");
  });

  test("a plain Node process survives every one of them (exit code 0, no SIGABRT)", () => {
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join("__tests__", "support", "bad_inputs_child.ts")],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const lines = child.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const final = lines.pop();
    expect(final).toEqual({ final: "a", size: 3 });
    expect(lines.length).toBeGreaterThanOrEqual(60);
    for (const line of lines) expect([line.name, line.got]).toEqual([line.name, line.expected]);
  });
});
