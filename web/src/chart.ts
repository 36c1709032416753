// Which chart, if any, suits a result: a category or a year against a number. Decided from the values,
// never from column names of one data set, so a new data set needs no change here.
import type { Cell, ChartHint } from "./types";

export interface ChartSpec {
  kind: "bar" | "line";
  x: number;
  y: number;
  points: { label: string; value: number }[];
}

export const MAX_BARS = 25;
export const MAX_LINE_POINTS = 200;

export function toNumber(cell: Cell): number | null {
  if (typeof cell === "number") return Number.isFinite(cell) ? cell : null;
  if (typeof cell === "string" && cell.trim() !== "" && /^-?\d+(\.\d+)?$/.test(cell.trim())) return Number(cell);
  return null;
}

function isYear(cell: Cell): boolean {
  const n = toNumber(cell);
  return n !== null && Number.isInteger(n) && n >= 1800 && n <= 2200;
}

function column(rows: Cell[][], index: number): Cell[] {
  return rows.map((r) => r[index] ?? null);
}

function allNumeric(values: Cell[]): boolean {
  const present = values.filter((v) => v !== null);
  return present.length > 0 && present.every((v) => typeof v !== "boolean" && toNumber(v) !== null);
}

function looksLikeYearColumn(name: string, values: Cell[]): boolean {
  return values.every(isYear) && (/year|season|yr/i.test(name) || new Set(values).size === values.length);
}

/** The chart for a result, or null when a table alone says it better. */
export function chooseChart(columns: string[], rows: Cell[][], hint: ChartHint = null): ChartSpec | null {
  if (columns.length < 2 || rows.length < 2) return null;
  const cols = columns.map((name, i) => ({ name, i, values: column(rows, i) }));
  const numeric = cols.filter((c) => allNumeric(c.values));

  // x: a year column (a time series), else the first text column (categories).
  const year = cols.find((c) => looksLikeYearColumn(c.name, c.values));
  const category = cols.find(
    (c) => c.values.every((v) => typeof v === "string" || v === null) && !allNumeric(c.values),
  );
  const x = year ?? category;
  if (!x) return null;
  // y: the last numeric column that is not x (totals usually come last).
  const ys = numeric.filter((c) => c.i !== x.i && !looksLikeYearColumn(c.name, c.values));
  const y = ys[ys.length - 1];
  if (!y) return null;

  const points = rows
    .map((r) => ({ label: String(r[x.i] ?? "—"), value: toNumber(r[y.i] ?? null) }))
    .filter((p): p is { label: string; value: number } => p.value !== null);
  if (points.length < 2) return null;
  if (new Set(points.map((p) => p.label)).size !== points.length) return null; // repeated x: not one series

  if (x === year) {
    if (points.length > MAX_LINE_POINTS) return null;
    points.sort((a, b) => Number(a.label) - Number(b.label));
    const kind = hint === "bar" || points.length < 3 ? "bar" : "line";
    if (kind === "bar" && points.length > MAX_BARS) return null;
    return { kind, x: x.i, y: y.i, points };
  }
  if (points.length > MAX_BARS) return null;
  return { kind: "bar", x: x.i, y: y.i, points };
}
