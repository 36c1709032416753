// Any result as a table: the columns come from the result, so a new data set needs no change here.
import { useState } from "react";
import { toNumber } from "../chart";
import type { Cell } from "../types";

export const PAGE_ROWS = 50;

function show(cell: Cell): string {
  if (cell === null) return "—";
  if (typeof cell === "boolean") return cell ? "yes" : "no";
  if (typeof cell === "number") return Number.isInteger(cell) ? String(cell) : cell.toLocaleString(undefined, { maximumFractionDigits: 4 });
  return cell;
}

export interface ResultTableProps {
  columns: string[];
  rows: Cell[][];
  /** Rows the query returned in all (stored history keeps only the first ones). */
  rowCount?: number;
  truncated?: boolean;
}

export function rowSummary(shown: number, total: number, truncated: boolean): string {
  const noun = total === 1 ? "row" : "rows";
  let text = `${total.toLocaleString()} ${noun}`;
  if (truncated) text += " (cut at the row limit: there are more in the data)";
  if (shown < total) text += ` · showing the first ${shown.toLocaleString()}`;
  return text;
}

export function ResultTable({ columns, rows, rowCount, truncated = false }: ResultTableProps) {
  const [all, setAll] = useState(false);
  const total = rowCount ?? rows.length;
  const visible = all ? rows : rows.slice(0, PAGE_ROWS);
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || r[i] === undefined || (typeof r[i] !== "boolean" && toNumber(r[i] ?? null) !== null)));
  if (columns.length === 0) return <p className="muted">The query returned no columns.</p>;
  return (
    <div className="result">
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Query result">
        <table>
          <caption className="visually-hidden">Query result: {rowSummary(visible.length, total, truncated)}</caption>
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={`${c}-${i}`} scope="col" className={numeric[i] ? "num" : undefined}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {visible.length === 0 ? (
              <tr>
                <td colSpan={columns.length} className="muted">
                  No rows.
                </td>
              </tr>
            ) : (
              visible.map((row, r) => (
                <tr key={r}>
                  {columns.map((_, i) => {
                    const cell = row[i] ?? null;
                    return (
                      <td key={i} className={[numeric[i] ? "num" : "", cell === null ? "null" : ""].join(" ").trim() || undefined}>
                        {show(cell)}
                      </td>
                    );
                  })}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <p className="row-count">
        {rowSummary(visible.length, total, truncated)}
        {rows.length > PAGE_ROWS && (
          <button type="button" className="link" onClick={() => setAll(!all)}>
            {all ? "Show fewer" : `Show all ${rows.length.toLocaleString()}`}
          </button>
        )}
      </p>
    </div>
  );
}
