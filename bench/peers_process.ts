// The Node side's handle on one peer process (peers/peer_server.py in a venv, or the Anserini Java peer): one JSON
// object per line each way. A peer that cannot start, answers with an error or dies fails the whole run loudly:
// a comparison is never skipped in silence.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import { REPO_ROOT } from "./support.js";

/** Where peers/setup_venv.sh puts the venvs and peers/fetch_*.sh the downloads. */
export const PEERS_CACHE =
  process.env.TSR_PEERS_CACHE ?? path.join(os.homedir(), ".cache", "two-stage-retriever", "peers");

export class PeerError extends Error {}

/** A peer answered `{ ok: false }`, could not be started, or exited. */
function peerFailure(name: string, what: string, hint: string): PeerError {
  return new PeerError(`Peer '${name}' ${what}. ${hint}`);
}

export class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderrTail = "";
  private exited: string | undefined;

  private constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    private readonly hint: string,
  ) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = `exited (code ${code}, signal ${signal})`;
    });
    this.child.on("error", (error) => {
      this.exited = `could not start (${error.message})`;
    });
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** peers/peer_server.py in `$PEERS_CACHE/venv-<venv>`; refuses at once when the venv is missing. */
  static python(venv: string, env: NodeJS.ProcessEnv = {}): PeerProcess {
    const python = path.join(PEERS_CACHE, `venv-${venv}`, "bin", "python");
    const hint = `Create its venv with: peers/setup_venv.sh ${venv}`;
    if (!fs.existsSync(python)) throw peerFailure(`python:${venv}`, `has no interpreter at ${python}`, hint);
    return new PeerProcess(`python:${venv}`, python, [path.join(REPO_ROOT, "peers", "peer_server.py")], env, hint);
  }

  /** Any program speaking the same protocol (the Anserini Java peer). */
  static command(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, hint: string): PeerProcess {
    return new PeerProcess(name, command, args, env, hint);
  }

  /** Sends one command and waits for its answer; throws a PeerError on `{ ok: false }` or a dead peer. */
  async call<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) throw peerFailure(this.name, this.exited, `${this.hint}\n${this.stderrTail}`);
    this.child.stdin.write(JSON.stringify({ op, ...args }) + "\n");
    let next = await this.lines.next();
    // A library that prints to stdout despite the peer's redirection: keep its lines out of the protocol.
    while (!next.done && !next.value.startsWith("{")) {
      this.stderrTail = (this.stderrTail + next.value + "\n").slice(-4000);
      next = await this.lines.next();
    }
    if (next.done) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw peerFailure(
        this.name,
        `${this.exited ?? "closed its output"} during '${op}'`,
        `${this.hint}\n${this.stderrTail}`,
      );
    }
    const answer = JSON.parse(next.value) as { ok: boolean; error?: string; trace?: string } & T;
    if (!answer.ok) {
      throw peerFailure(this.name, `failed on '${op}': ${answer.error}`, `${this.hint}\n${answer.trace ?? ""}`);
    }
    return answer;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
