import { createHash } from "node:crypto";
import fs from "node:fs";

import { IndexError } from "../../errors.js";

/** Codes of a write that ran out of room: a full disk, a quota, a file-size limit (`ulimit -f`). */
const NO_ROOM = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

/** The error for a file that could not be written, naming the file and, when the disk is full, saying so. */
export function writeError(file: string, error: unknown, what: string): IndexError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const at = (error as NodeJS.ErrnoException | undefined)?.path ?? file;
  if (code !== undefined && NOT_WRITABLE.has(code)) {
    return new IndexError(
      `Could not write ${at}: the folder is not writable (${code}). ${what} Check its permissions (or a read-only ` +
        "mount), or write to another folder.",
      { cause: error },
    );
  }
  const reason =
    code === "EFBIG"
      ? "a file-size limit was reached (EFBIG: the process's ulimit -f, or the file system's largest file)"
      : code !== undefined && NO_ROOM.has(code)
        ? `the disk is full (${code})`
        : error instanceof Error
          ? error.message
          : String(error);
  const next =
    code !== undefined && NO_ROOM.has(code)
      ? "Free some space (or raise the limit), or write to another disk."
      : "Fix the cause, or write to another folder.";
  return new IndexError(`Could not write ${at}: ${reason}. ${what} ${next}`, { cause: error });
}

/** Codes of a write the file system refused: permissions, a read-only mount. */
const NOT_WRITABLE = new Set(["EACCES", "EPERM", "EROFS"]);

/**
 * A file written with Node's own file calls — every short write continued, every failure (ENOSPC, EFBIG, EIO) an
 * exception naming the file, never a half-written file taken as whole — and fsynced by {@link finish}, which
 * returns the sha256 (hex) of what was written. A failure carries the file in its `path`. The one writer of every
 * index file (faiss's own writer aborts the whole process on a short write; this one throws).
 */
export class CheckedFileWriter {
  private readonly hash = createHash("sha256");
  private readonly fd: number;
  private closed = false;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w");
  }

  /** Appends bytes; on failure the file is closed and the error names it. */
  write(bytes: Uint8Array): void {
    try {
      this.hash.update(bytes);
      for (let offset = 0; offset < bytes.byteLength;) {
        offset += fs.writeSync(this.fd, bytes, offset, bytes.byteLength - offset);
      }
    } catch (error) {
      this.abandon();
      throw namingFile(error, this.file);
    }
  }

  /** Fsyncs and closes the file; returns the sha256 (hex) of everything written. */
  finish(): string {
    try {
      fs.fsyncSync(this.fd);
    } catch (error) {
      throw namingFile(error, this.file);
    } finally {
      this.abandon();
    }
    return this.hash.digest("hex");
  }

  /** Closes the file without finishing it (after a failure of the caller's own). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** Writes `chunks` to `file` through a {@link CheckedFileWriter}; returns the sha256 (hex) of what was written. */
export function writeFileChecked(file: string, chunks: string | Uint8Array | readonly Uint8Array[]): string {
  const parts =
    typeof chunks === "string" ? [Buffer.from(chunks, "utf8")] : chunks instanceof Uint8Array ? [chunks] : chunks;
  const writer = new CheckedFileWriter(file);
  for (const part of parts) writer.write(part);
  return writer.finish();
}

/** Sets `path` on an error of an fd-based call (they name no file), so {@link writeError} can say which file. */
export function namingFile(error: unknown, file: string): unknown {
  if (error instanceof Error && (error as NodeJS.ErrnoException).path === undefined) {
    (error as NodeJS.ErrnoException).path = file;
  }
  return error;
}
