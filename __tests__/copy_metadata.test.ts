import { describe, expect, test } from "@jest/globals";

import { copyMetadata } from "../src/documents/copy_document.js";

describe("copyMetadata", () => {
  test("flat metadata of primitives: a new object with the same keys and values (the fast path)", () => {
    const original = { source: "a.txt", page: 3, draft: false, note: null, missing: undefined };
    const copy = copyMetadata(original);
    expect(copy).not.toBe(original);
    expect(copy).toStrictEqual(original);
    copy.page = 4;
    expect(original.page).toBe(3);
  });

  test("one nested value sends the whole object through the deep copy", () => {
    const original = { source: "a.txt", tags: ["x"], when: new Date(0), deep: { n: 1 } };
    const copy = copyMetadata(original);
    expect(copy).toStrictEqual(original);
    expect(copy.tags).not.toBe(original.tags);
    expect(copy.when).not.toBe(original.when);
    expect(copy.deep).not.toBe(original.deep);
  });

  test("a null-prototype object keeps its null prototype; undefined gives {}", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(Object.getPrototypeOf(copyMetadata(bare))).toBeNull();
    expect(copyMetadata(undefined)).toStrictEqual({});
  });
});
