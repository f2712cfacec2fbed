/** Renders rows as an aligned plain-text table (numbers right-aligned). */
export function renderTable(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]?.length ?? 0)));
  const numeric = headers.map(
    (_, c) =>
      rows.length > 0 &&
      rows.every((row) => typeof row[c] === "number" || /^[-+]?[\d.]+( ms|%)?$/.test(String(row[c]))),
  );
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** The first `length` characters of a text on one line. */
export function snippet(text: string, length = 70): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1)}…`;
}
