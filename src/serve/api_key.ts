// The server's API key check: `Authorization: Bearer <key>`, compared in constant time (both sides hashed to the
// same length first, then crypto.timingSafeEqual), the key never logged or echoed.
import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** A check of `Authorization` headers against one key. */
export function bearerCheck(key: string): (authorization: string | undefined) => boolean {
  const expected = digest(key);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
    const same = timingSafeEqual(digest(match?.[1].trim() ?? ""), expected);
    return match !== null && same;
  };
}
