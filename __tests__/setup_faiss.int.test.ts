import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const SCRIPT = path.resolve("scripts/setup_faiss.mjs");

/** Runs the fallback builder in a scratch project with an empty cache, so nothing cached can mask an error. */
function runSetup(args: string[]): { status: number | null; stderr: string } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "setup-faiss-"));
  try {
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    const result = spawnSync(
      process.execPath,
      [SCRIPT, "--force", "--no-apt", "--prefix", scratch, "--cache-dir", path.join(scratch, "cache"), ...args],
      { encoding: "utf8", env: { ...process.env, TWO_STAGE_FAISS_SOURCE: "", TWO_STAGE_OPENBLAS_DIR: "" } },
    );
    return { status: result.status, stderr: result.stderr };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

describe("setup-faiss fallback errors", () => {
  test("a bogus faiss source path names the path and how to get the sources", () => {
    const { status, stderr } = runSetup(["--faiss-source", "/nonexistent/faiss-src"]);
    expect(status).toBe(1);
    expect(stderr).toContain("/nonexistent/faiss-src");
    expect(stderr).toMatch(/faiss sources not found/);
    expect(stderr).toContain("apt-get source faiss");
  });

  test("a bogus OpenBLAS folder names the folder and the package to install", () => {
    const { status, stderr } = runSetup(["--openblas-dir", "/nonexistent/openblas", "--rebuild-faiss"]);
    expect(status).toBe(1);
    expect(stderr).toContain("/nonexistent/openblas");
    expect(stderr).toContain("libopenblas.so");
    expect(stderr).toContain("apt-get install libopenblas-dev");
  });

  test("an unknown option is refused with a pointer to --help", () => {
    const { status, stderr } = runSetup(["--frobnicate"]);
    expect(status).toBe(2);
    expect(stderr).toContain("Unknown option '--frobnicate'");
  });
});
