#!/usr/bin/env node
// Builds a working faiss-node where its own install cannot (no GitHub access, Alpine, arm64, air-gapped).
//
// faiss-node's install downloads a prebuilt binary from GitHub, else `git clone`s faiss. When both fail, this
// script compiles faiss-node's own npm tarball with node-gyp against a faiss static library built from Debian's
// `faiss` source package (or any faiss source tree you point it at), with AVX2 kernels where the CPU has them and
// OpenBLAS for BLAS. Both builds are cached, so a second install does not rebuild them.
//
// Plain Node.js (no dependencies, no TypeScript) because it runs from `postinstall`, before anything is built.
// Run `node scripts/setup_faiss.mjs --help` (or `npx two-stage setup-faiss --help`) for the options.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PREFIX = "[two-stage setup-faiss]";
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const HELP = `Usage: two-stage setup-faiss [options]

Makes faiss-node loadable in a project. Does nothing when faiss-node already works (e.g. its prebuilt binary
installed), unless --force. Otherwise builds faiss (from Debian's source package, or --faiss-source) and then
faiss-node from its npm tarball with node-gyp. Results are cached under --cache-dir. At run time faiss-node loads
OpenBLAS's OpenMP build where there is one (Debian/Ubuntu: libopenblas0-openmp, installed with apt unless --no-apt),
so a batch search runs BLAS on FAISS's own threads instead of a second pool fighting them.

Options:
  --prefix DIR         project whose node_modules/faiss-node to fix (default: nearest folder with package.json)
  --force              rebuild faiss-node even if it loads (the cached faiss library is reused)
  --rebuild-faiss      rebuild the faiss library too, ignoring the cache
  --faiss-source DIR   a faiss source tree (CMakeLists.txt + faiss/Index.h) instead of 'apt-get source faiss'
                       (env TWO_STAGE_FAISS_SOURCE)
  --openblas-dir DIR   folder holding libopenblas.so (env TWO_STAGE_OPENBLAS_DIR; default: found with ldconfig)
  --opt-level LEVEL    avx2 | generic (env TWO_STAGE_FAISS_OPT_LEVEL; default: avx2 where the CPU has AVX2)
  --cache-dir DIR      where built faiss and faiss-node are kept
                       (env TWO_STAGE_CACHE_DIR; default: $XDG_CACHE_HOME or ~/.cache, /two-stage-retriever)
  --no-apt             never run apt-get; report the missing packages instead
  --check              only report whether faiss-node loads (exit 0 when it does, 1 otherwise)
  --postinstall        mode used by this package's npm postinstall
  -h, --help           this text
`;

class SetupError extends Error {}

function log(message) {
  process.stderr.write(`${PREFIX} ${message}\n`);
}

function parseArgs(argv) {
  const opts = {
    prefix: undefined,
    force: false,
    rebuildFaiss: false,
    faissSource: process.env.TWO_STAGE_FAISS_SOURCE || undefined,
    openblasDir: process.env.TWO_STAGE_OPENBLAS_DIR || undefined,
    optLevel: process.env.TWO_STAGE_FAISS_OPT_LEVEL || undefined,
    cacheDir: process.env.TWO_STAGE_CACHE_DIR || undefined,
    apt: true,
    check: false,
    postinstall: false,
    help: false,
  };
  const valued = {
    "--prefix": "prefix",
    "--faiss-source": "faissSource",
    "--openblas-dir": "openblasDir",
    "--opt-level": "optLevel",
    "--cache-dir": "cacheDir",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (name in valued) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") {
        throw new SetupError(`Option ${name} needs a value. Run with --help for the options.`);
      }
      opts[valued[name]] = value;
    } else if (arg === "--force") opts.force = true;
    else if (arg === "--rebuild-faiss") opts.rebuildFaiss = opts.force = true;
    else if (arg === "--no-apt") opts.apt = false;
    else if (arg === "--check") opts.check = true;
    else if (arg === "--postinstall") opts.postinstall = true;
    else if (arg === "-h" || arg === "--help") opts.help = true;
    else throw new SetupError(`Unknown option '${arg}'. Run with --help for the options.`);
  }
  if (opts.optLevel !== undefined && !["avx2", "generic"].includes(opts.optLevel)) {
    throw new SetupError(`Unsupported --opt-level '${opts.optLevel}'. Expected one of: avx2, generic.`);
  }
  return opts;
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) {
    return { ok: false, status: -1, stdout: "", stderr: String(result.error.message) };
  }
  return { ok: result.status === 0, status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** Runs a build step, streaming nothing but keeping the last lines of its output for the error message. */
function runStep(label, cmd, args, options = {}) {
  const started = Date.now();
  const result = run(cmd, args, options);
  if (!result.ok) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-25).join("\n");
    throw new SetupError(`${label} failed (${cmd} ${args.join(" ")}), exit ${result.status}:\n${tail}`);
  }
  log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function which(tool) {
  return run("sh", ["-c", `command -v ${tool}`]).ok;
}

function findProjectRoot(start) {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/** Loads faiss-node in a child process (a broken binary must not take this process down) and runs one search. */
function faissNodeWorks(prefix) {
  const probe = [
    "const f = require('faiss-node');",
    "const i = new f.IndexFlatIP(2); i.add([1, 0, 0, 1]);",
    "const r = i.search([0, 1], 1);",
    "if (r.labels[0] !== 1) { console.error('faiss-node returned a wrong neighbour'); process.exit(3); }",
    // Which OpenBLAS the dynamic loader picked (Linux): LD_LIBRARY_PATH, for one, comes before the binary's rpath.
    "try { const m = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')",
    ".map((l) => l.trim().split(/\\s+/).pop()).find((p) => /libopenblas/.test(p)); if (m) console.log(m); } catch {}",
  ].join(" ");
  const result = run(process.execPath, ["-e", probe], { cwd: prefix });
  return {
    ok: result.ok,
    detail: result.stderr.trim().split("\n").slice(0, 3).join(" "),
    openblas: result.stdout.trim() || undefined,
  };
}

function cpuHasAvx2() {
  if (process.arch !== "x64") return false;
  try {
    return /\bavx2\b/.test(fs.readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

function isDebianLike() {
  return fs.existsSync("/etc/debian_version") && which("apt-get");
}

function isRoot() {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function aptInstall(packages, opts) {
  if (packages.length === 0) return;
  const command = `apt-get update && apt-get install -y ${packages.join(" ")}`;
  if (!opts.apt || !isDebianLike() || !isRoot()) {
    throw new SetupError(
      `Missing build prerequisites: ${packages.join(", ")}.\n` +
        (isDebianLike()
          ? `Install them with:\n  sudo sh -c '${command}'\nthen run this command again.`
          : `Install the equivalents with your package manager (Alpine: apk add cmake g++ make openblas-dev; ` +
            `Fedora: dnf install cmake gcc-c++ make openblas-devel) and run this command again.`),
    );
  }
  log(`installing missing packages with apt-get: ${packages.join(" ")}`);
  runStep("apt-get update", "apt-get", ["update"]);
  runStep("apt-get install", "apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function multiarchDirs() {
  const dirs = [];
  const triplet = run("gcc", ["-print-multiarch"]).stdout.trim();
  if (triplet) dirs.push(`/usr/lib/${triplet}`, `/lib/${triplet}`);
  dirs.push("/usr/lib64", "/usr/lib", "/usr/local/lib", "/opt/OpenBLAS/lib");
  return dirs;
}

/** The folder holding a linkable libopenblas.so, or undefined. */
function findOpenBlas(explicitDir) {
  const candidates = explicitDir ? [explicitDir] : multiarchDirs();
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, "libopenblas.so"))) return dir;
  }
  return undefined;
}

function requireOpenBlas(opts) {
  if (opts.openblasDir) {
    const dir = findOpenBlas(opts.openblasDir);
    if (!dir) {
      throw new SetupError(
        `OpenBLAS not found: no libopenblas.so in '${opts.openblasDir}' (from --openblas-dir / TWO_STAGE_OPENBLAS_DIR).\n` +
          `Point it at the folder holding libopenblas.so, or unset it and install OpenBLAS ` +
          `(Debian/Ubuntu: apt-get install libopenblas-dev; Alpine: apk add openblas-dev).`,
      );
    }
    return dir;
  }
  let dir = findOpenBlas();
  if (!dir) {
    aptInstall(["libopenblas-dev"], opts);
    dir = findOpenBlas();
  }
  if (!dir) {
    throw new SetupError(
      `OpenBLAS not found after installing libopenblas-dev (looked in ${multiarchDirs().join(", ")}). ` +
        `Pass --openblas-dir DIR with the folder holding libopenblas.so.`,
    );
  }
  return dir;
}

/**
 * The folder of OpenBLAS's OpenMP build (Debian/Ubuntu: libopenblas0-openmp), or undefined. FAISS runs its loops on
 * OpenMP threads and hands a batch of ≥ 20 queries to BLAS (sgemm). Debian's default libopenblas.so.0 is the pthread
 * build, which starts a second pool of threads beside FAISS's still-spinning OpenMP threads; on a small machine they
 * fight for the cores (a batch of 32 queries on 100k × 384 vectors took 0.1–1.2 s instead of ~30 ms on 2 cores). The
 * OpenMP build runs sgemm on FAISS's own pool, as faiss-cpu's wheels do.
 */
function findOpenMpOpenBlas() {
  for (const dir of multiarchDirs()) {
    const candidate = path.join(dir, "openblas-openmp");
    if (fs.existsSync(path.join(candidate, "libopenblas.so.0"))) return candidate;
  }
  return undefined;
}

/** The OpenMP OpenBLAS folder faiss-node should load at run time (installed with apt where allowed), or undefined. */
function runtimeOpenBlasDir(opts) {
  if (opts.openblasDir) return undefined; // an explicit --openblas-dir is used as given
  let dir = findOpenMpOpenBlas();
  let why = !isDebianLike() ? "not a Debian-like system" : !opts.apt ? "--no-apt" : !isRoot() ? "not root" : undefined;
  if (!dir && !why) {
    try {
      aptInstall(["libopenblas0-openmp"], opts);
    } catch (error) {
      // A speed-up only: a setup that works without it must not fail for it (no network, a broken apt source).
      why = `apt-get failed: ${String(error.message).split("\n")[0]}`;
    }
    dir = findOpenMpOpenBlas();
  }
  if (!dir) {
    log(
      `no OpenMP build of OpenBLAS (looked for openblas-openmp/libopenblas.so.0 in ${multiarchDirs().join(", ")}; ` +
        `not installed: ${why ?? "not found after installing"}), so faiss-node will load the system's ` +
        "libopenblas.so.0. If that is the pthread build, a search of 20 or more queries in one call can be several " +
        "times slower on a few cores. Install it (Debian/Ubuntu: sudo apt-get install libopenblas0-openmp) and " +
        "run setup-faiss --force, or set OPENBLAS_NUM_THREADS=1.",
    );
  }
  return dir;
}

function requireBuildTools(opts, needDpkgSource) {
  const missing = [];
  if (!which("cmake")) missing.push("cmake");
  if (!which("make")) missing.push("make");
  if (!which("g++")) missing.push("g++");
  if (needDpkgSource && !which("dpkg-source")) missing.push("dpkg-dev");
  aptInstall(missing, opts);
}

function faissVersionOf(sourceDir) {
  const cmake = fs.readFileSync(path.join(sourceDir, "CMakeLists.txt"), "utf8");
  const match = /project\(\s*faiss\s+VERSION\s+([0-9.]+)/i.exec(cmake);
  return match ? match[1] : "unknown";
}

function isFaissSource(dir) {
  return fs.existsSync(path.join(dir, "CMakeLists.txt")) && fs.existsSync(path.join(dir, "faiss", "Index.h"));
}

/** Adds a deb-src entry mirroring the machine's Debian sources when apt has none for faiss. */
function ensureDebSrc(opts) {
  if (run("apt-cache", ["showsrc", "faiss"]).stdout.includes("Package: faiss")) return;
  if (!opts.apt || !isRoot()) {
    throw new SetupError(
      `apt has no source entries (deb-src), so 'apt-get source faiss' cannot run. As root, add one, e.g.:\n` +
        `  printf 'Types: deb-src\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm\\nComponents: main\\n' ` +
        `> /etc/apt/sources.list.d/faiss-src.sources && apt-get update\n` +
        `or pass --faiss-source DIR with a faiss 1.7.x source tree.`,
    );
  }
  const entries = [];
  const deb822 = "/etc/apt/sources.list.d/debian.sources";
  if (fs.existsSync(deb822)) {
    for (const stanza of fs.readFileSync(deb822, "utf8").split(/\n\s*\n/)) {
      if (!/^Types:.*\bdeb\b/m.test(stanza) || /-security/.test(stanza)) continue;
      entries.push(
        stanza
          .replace(/^Types:.*$/m, "Types: deb-src")
          .replace(/^#.*\n/gm, "")
          .trim(),
      );
    }
  }
  const legacy = "/etc/apt/sources.list";
  if (entries.length === 0 && fs.existsSync(legacy)) {
    const lines = fs
      .readFileSync(legacy, "utf8")
      .split("\n")
      .filter((line) => /^deb\s/.test(line))
      .map((line) => line.replace(/^deb\s/, "deb-src "));
    if (lines.length > 0) {
      fs.writeFileSync("/etc/apt/sources.list.d/two-stage-retriever-src.list", `${lines.join("\n")}\n`);
      log("added deb-src lines to /etc/apt/sources.list.d/two-stage-retriever-src.list");
    }
  } else if (entries.length > 0) {
    fs.writeFileSync("/etc/apt/sources.list.d/two-stage-retriever-src.sources", `${entries.join("\n\n")}\n`);
    log("added a deb-src entry: /etc/apt/sources.list.d/two-stage-retriever-src.sources");
  }
  runStep("apt-get update", "apt-get", ["update"]);
  if (!run("apt-cache", ["showsrc", "faiss"]).stdout.includes("Package: faiss")) {
    throw new SetupError(
      "apt still knows no source package 'faiss' after adding deb-src entries. " +
        "Pass --faiss-source DIR with a faiss 1.7.x source tree instead.",
    );
  }
}

/** A faiss source tree: --faiss-source, or Debian's source package fetched into the cache. */
function obtainFaissSource(opts, cacheRoot) {
  if (opts.faissSource) {
    const dir = path.resolve(opts.faissSource);
    if (!isFaissSource(dir)) {
      throw new SetupError(
        `faiss sources not found: '${dir}' (from --faiss-source / TWO_STAGE_FAISS_SOURCE) has no ` +
          `CMakeLists.txt and faiss/Index.h.\nPoint it at an unpacked faiss 1.7.x source tree, or unset it to use ` +
          `Debian's source package: apt-get source faiss (needs a deb-src entry and dpkg-dev).`,
      );
    }
    return dir;
  }
  const srcRoot = path.join(cacheRoot, "src");
  const existing = fs.existsSync(srcRoot)
    ? fs.readdirSync(srcRoot).find((name) => /^faiss-\d/.test(name) && isFaissSource(path.join(srcRoot, name)))
    : undefined;
  if (existing) return path.join(srcRoot, existing);
  if (!isDebianLike()) {
    throw new SetupError(
      "faiss sources not found, and this is not a Debian/Ubuntu machine where 'apt-get source faiss' could fetch " +
        "them. Unpack a faiss 1.7.x source release from any mirror you can reach and pass --faiss-source DIR.",
    );
  }
  ensureDebSrc(opts);
  fs.mkdirSync(srcRoot, { recursive: true });
  runStep("apt-get source faiss", "apt-get", ["source", "faiss"], { cwd: srcRoot });
  const fetched = fs
    .readdirSync(srcRoot)
    .find((name) => /^faiss-\d/.test(name) && isFaissSource(path.join(srcRoot, name)));
  if (!fetched) throw new SetupError(`'apt-get source faiss' ran but left no faiss source tree in ${srcRoot}.`);
  return path.join(srcRoot, fetched);
}

function copyHeaders(sourceDir, includeDir) {
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(sourceDir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (!["gpu", "python"].includes(entry.name)) walk(child);
      } else if (entry.name.endsWith(".h")) {
        fs.mkdirSync(path.join(includeDir, rel), { recursive: true });
        fs.copyFileSync(path.join(sourceDir, child), path.join(includeDir, child));
      }
    }
  };
  walk("faiss");
}

/** Builds (or reuses) the static faiss library; returns { dir, lib, version, optLevel, openblasDir }. */
function ensureFaissLibrary(opts, cacheRoot, optLevel) {
  const arch = `${process.platform}-${process.arch}`;
  if (!opts.rebuildFaiss && !opts.faissSource && fs.existsSync(cacheRoot)) {
    for (const name of fs.readdirSync(cacheRoot)) {
      const infoPath = path.join(cacheRoot, name, "build-info.json");
      if (!name.startsWith("faiss-") || !fs.existsSync(infoPath)) continue;
      const info = JSON.parse(fs.readFileSync(infoPath, "utf8"));
      if (info.optLevel === optLevel && info.arch === arch && fs.existsSync(info.lib)) {
        const openblasDir = findOpenBlas(opts.openblasDir);
        if (openblasDir) {
          log(`reusing cached faiss ${info.version} (${optLevel}) from ${path.join(cacheRoot, name)}`);
          return { ...info, openblasDir };
        }
      }
    }
  }
  const openblasDir = requireOpenBlas(opts);
  requireBuildTools(opts, !opts.faissSource);
  const sourceDir = obtainFaissSource(opts, cacheRoot);
  const version = faissVersionOf(sourceDir);
  const outDir = path.join(cacheRoot, `faiss-${version}-${optLevel}-${arch}`);
  const buildDir = path.join(cacheRoot, "build", `faiss-${version}-${optLevel}`);
  const target = optLevel === "avx2" ? "faiss_avx2" : "faiss";
  const blas = path.join(openblasDir, "libopenblas.so");
  log(`building faiss ${version} (${target}, OpenBLAS ${blas}) from ${sourceDir}; about 1-3 minutes on 2 cores`);
  runStep("faiss: cmake configure", "cmake", [
    "-S",
    sourceDir,
    "-B",
    buildDir,
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DBUILD_TESTING=OFF",
    "-DFAISS_ENABLE_GPU=OFF",
    "-DFAISS_ENABLE_PYTHON=OFF",
    "-DFAISS_ENABLE_C_API=OFF",
    `-DFAISS_OPT_LEVEL=${optLevel}`,
    "-DBLA_VENDOR=OpenBLAS",
    `-DBLAS_LIBRARIES=${blas}`,
    `-DLAPACK_LIBRARIES=${blas}`,
  ]);
  runStep(`faiss: compile ${target}`, "cmake", [
    "--build",
    buildDir,
    "--target",
    target,
    "--parallel",
    String(os.availableParallelism?.() ?? os.cpus().length),
  ]);
  const built = path.join(buildDir, "faiss", `lib${target}.a`);
  if (!fs.existsSync(built)) throw new SetupError(`faiss build finished but ${built} is missing.`);
  const staging = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, "lib"), { recursive: true });
  fs.copyFileSync(built, path.join(staging, "lib", `lib${target}.a`));
  copyHeaders(sourceDir, path.join(staging, "include"));
  const info = {
    version,
    optLevel,
    arch,
    target,
    source: opts.faissSource ? sourceDir : "debian source package (apt-get source faiss)",
    blas: "openblas",
    lib: path.join(outDir, "lib", `lib${target}.a`),
    include: path.join(outDir, "include"),
    builtAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(staging, "build-info.json"), `${JSON.stringify(info, null, 2)}\n`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(staging, outDir);
  fs.rmSync(buildDir, { recursive: true, force: true });
  return { ...info, openblasDir };
}

function requiredFaissNodeVersion() {
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"));
  return manifest.optionalDependencies?.["faiss-node"] ?? manifest.dependencies?.["faiss-node"] ?? "0.5.1";
}

/** node_modules/faiss-node with its source and runtime dependencies, unpacked from the npm tarball if npm removed it. */
function ensureFaissNodeSources(prefix) {
  const dir = path.join(prefix, "node_modules", "faiss-node");
  if (!fs.existsSync(path.join(dir, "src", "faiss.cc"))) {
    const version = requiredFaissNodeVersion();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faiss-node-"));
    runStep(`npm pack faiss-node@${version}`, "npm", ["pack", `faiss-node@${version}`, "--pack-destination", tmp], {
      cwd: tmp,
    });
    const tarball = fs.readdirSync(tmp).find((name) => name.endsWith(".tgz"));
    if (!tarball) throw new SetupError(`npm pack faiss-node@${version} produced no tarball in ${tmp}.`);
    runStep("unpack faiss-node", "tar", ["xzf", tarball], { cwd: tmp });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.cpSync(path.join(tmp, "package"), dir, { recursive: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!packageVisibleFrom(dir, "bindings") || !packageVisibleFrom(dir, "node-addon-api")) {
    runStep(
      "install faiss-node's dependencies (bindings, node-addon-api)",
      "npm",
      ["install", "--omit=dev", "--ignore-scripts", "--no-save", "--no-package-lock", "--no-audit", "--no-fund"],
      { cwd: dir },
    );
  }
  return dir;
}

/** Whether Node's resolution from `dir` would find package `name` (a node_modules folder on the way up). */
function packageVisibleFrom(dir, name) {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, "node_modules", name, "package.json"))) return true;
    if (path.dirname(current) === current) return false;
  }
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(path.dirname(process.execPath)),
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    path.join(path.dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  const found = candidates.find((candidate) => candidate && fs.existsSync(candidate));
  if (!found) {
    throw new SetupError("node-gyp not found (it ships with npm). Install it with: npm install -g node-gyp");
  }
  return found;
}

function nodeGypDirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.dirname(path.dirname(process.execPath));
  if (fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))) return [`--nodedir=${prefix}`];
  return [];
}

function writeBindingGyp(faissNodeDir, faiss) {
  const metricHeader = path.join(faiss.include, "faiss", "MetricType.h");
  const hasNamespaceIdx = /^\s*using\s+idx_t\s*=/m.test(fs.readFileSync(metricHeader, "utf8"));
  const shim = path.join(faissNodeDir, "two_stage_faiss_shim.h");
  // faiss < 1.7.4 only defines faiss::Index::idx_t; faiss-node 0.5 expects faiss::idx_t.
  fs.writeFileSync(
    shim,
    hasNamespaceIdx
      ? "#pragma once\n"
      : "#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n",
  );
  const gyp = {
    targets: [
      {
        target_name: "faiss-node",
        sources: ["src/faiss.cc"],
        include_dirs: [faiss.include, "<!(node -p \"require('node-addon-api').include_dir\")"],
        defines: ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
        "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
        cflags_cc: ["-std=c++17", "-fexceptions", "-O3", "-fopenmp", "-include", shim],
        // Linked against the dev library; at run time the OpenMP build is found first (its folder leads the rpath).
        libraries: [
          faiss.lib,
          `-L${faiss.openblasDir}`,
          ...(faiss.runtimeBlasDir ? [`-Wl,-rpath,${faiss.runtimeBlasDir}`] : []),
          `-Wl,-rpath,${faiss.openblasDir}`,
          "-lopenblas",
          "-fopenmp",
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(faissNodeDir, "binding.gyp"), `${JSON.stringify(gyp, null, 2)}\n`);
}

function buildFaissNode(faissNodeDir, faiss, cacheRoot) {
  const fnVersion = JSON.parse(fs.readFileSync(path.join(faissNodeDir, "package.json"), "utf8")).version;
  // The folders baked into the binary (link and rpath) are part of what was built.
  const blas = createHash("sha256")
    .update(JSON.stringify([faiss.openblasDir, faiss.runtimeBlasDir ?? null]))
    .digest("hex")
    .slice(0, 12);
  const key = `faiss-node-${fnVersion}-faiss-${faiss.version}-${faiss.optLevel}-${faiss.arch}-napi6-blas-${blas}`;
  const cached = path.join(cacheRoot, key, "faiss-node.node");
  const target = path.join(faissNodeDir, "build", "Release", "faiss-node.node");
  if (fs.existsSync(cached) && fs.statSync(cached).mtimeMs >= fs.statSync(faiss.lib).mtimeMs) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(cached, target);
    log(`reusing cached faiss-node binary ${cached}`);
  } else {
    writeBindingGyp(faissNodeDir, faiss);
    runStep("faiss-node: node-gyp rebuild", process.execPath, [findNodeGyp(), "rebuild", ...nodeGypDirArgs()], {
      cwd: faissNodeDir,
    });
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.copyFileSync(target, cached);
  }
  const info = { ...faiss, faissNode: fnVersion, binary: target, builtBy: "two-stage-retriever setup-faiss" };
  fs.writeFileSync(path.join(faissNodeDir, "build", "two-stage-faiss.json"), `${JSON.stringify(info, null, 2)}\n`);
}

function defaultCacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "two-stage-retriever");
}

function setup(opts) {
  const prefix = path.resolve(opts.prefix ?? findProjectRoot(process.cwd()));
  const before = faissNodeWorks(prefix);
  if (opts.check) {
    log(before.ok ? `faiss-node loads in ${prefix}` : `faiss-node does not load in ${prefix}: ${before.detail}`);
    return before.ok ? 0 : 1;
  }
  if (before.ok && !opts.force) {
    log(`faiss-node already works in ${prefix}; nothing to do (use --force to rebuild).`);
    const openmp = findOpenMpOpenBlas();
    if (openmp && before.openblas && !before.openblas.startsWith(openmp)) {
      log(
        `note: it loads ${before.openblas}, not the OpenMP build in ${openmp}; a search of 20 or more queries in ` +
          "one call can be several times slower. Run setup-faiss --force to link the OpenMP build.",
      );
    }
    return 0;
  }
  log(`faiss-node is not usable in ${prefix}${before.ok ? " (forced rebuild)" : ""}; building it from source.`);
  const started = Date.now();
  const avx2 = cpuHasAvx2();
  const optLevel = opts.optLevel ?? (avx2 ? "avx2" : "generic");
  if (optLevel === "avx2" && !avx2) {
    throw new SetupError("--opt-level avx2 was asked for, but this CPU has no AVX2. Use --opt-level generic.");
  }
  const cacheRoot = path.resolve(opts.cacheDir ?? defaultCacheRoot());
  fs.mkdirSync(cacheRoot, { recursive: true });
  const faiss = { ...ensureFaissLibrary(opts, cacheRoot, optLevel), runtimeBlasDir: runtimeOpenBlasDir(opts) };
  const faissNodeDir = ensureFaissNodeSources(prefix);
  buildFaissNode(faissNodeDir, faiss, cacheRoot);
  const after = faissNodeWorks(prefix);
  if (!after.ok) {
    throw new SetupError(`faiss-node was built but still does not load: ${after.detail}`);
  }
  log(
    `faiss-node ready: faiss ${faiss.version}, ${optLevel} kernels, OpenBLAS ${after.openblas ?? "(not seen)"}; ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s in all.`,
  );
  const expected = faiss.runtimeBlasDir ?? (opts.openblasDir ? faiss.openblasDir : undefined);
  if (expected && after.openblas && !after.openblas.startsWith(expected)) {
    log(
      `warning: faiss-node was linked to load OpenBLAS from ${expected} but loads ${after.openblas}; ` +
        "LD_LIBRARY_PATH (searched before the binary's rpath) is the likely cause.",
    );
  }
  return 0;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (error) {
    log(error.message);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.postinstall) {
    if (process.env.TWO_STAGE_SKIP_FAISS_SETUP) {
      log("TWO_STAGE_SKIP_FAISS_SETUP is set; not checking faiss-node.");
      return 0;
    }
    const initCwd = process.env.INIT_CWD ? path.resolve(process.env.INIT_CWD) : undefined;
    if (initCwd !== PACKAGE_ROOT) {
      // Installed as a dependency: never run builds or apt-get inside someone else's install. Only advise.
      const prefix = initCwd ?? findProjectRoot(process.cwd());
      if (!faissNodeWorks(prefix).ok) {
        log(
          "faiss-node did not install (its prebuilt binary and its git clone both need GitHub). " +
            "The FAISS stage needs it; build it locally with: npx two-stage setup-faiss",
        );
      }
      return 0;
    }
    opts.prefix = PACKAGE_ROOT;
  }
  try {
    return setup(opts);
  } catch (error) {
    if (error instanceof SetupError) {
      log(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main();
