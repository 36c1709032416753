import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PAGE_ROWS, ResultTable, rowSummary } from "../components/ResultTable";

describe("ResultTable", () => {
  it("renders whatever columns the result has", () => {
    render(
      <ResultTable
        columns={["sku", "in_stock", "price", "note"]}
        rows={[
          ["A-1", true, 9.5, null],
          ["B-2", false, 12, "new"],
        ]}
      />,
    );
    const table = screen.getByRole("table");
    const headers = within(table).getAllByRole("columnheader").map((h) => h.textContent);
    expect(headers).toEqual(["sku", "in_stock", "price", "note"]);
    const cells = within(table).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["A-1", "yes", "9.5", "—", "B-2", "no", "12", "new"]);
    // Numbers line up on the right.
    expect(within(table).getByText("12").className).toContain("num");
    expect(screen.getByText("2 rows", { selector: ".row-count" })).toBeTruthy();
  });

  it("says when the result was cut at the row limit", () => {
    const { container } = render(<ResultTable columns={["n"]} rows={[[1], [2]]} rowCount={1000} truncated />);
    expect(container.querySelector(".row-count")?.textContent).toMatch(/^1,000 rows \(cut at the row limit/);
  });

  it("shows a page of rows and can show them all", () => {
    const rows = Array.from({ length: PAGE_ROWS + 5 }, (_, i) => [`r${i}`, i]);
    render(<ResultTable columns={["name", "value"]} rows={rows} />);
    expect(screen.getAllByRole("row")).toHaveLength(PAGE_ROWS + 1);
    fireEvent.click(screen.getByRole("button", { name: `Show all ${PAGE_ROWS + 5}` }));
    expect(screen.getAllByRole("row")).toHaveLength(PAGE_ROWS + 6);
  });

  it("handles an empty result", () => {
    render(<ResultTable columns={["winner"]} rows={[]} />);
    expect(screen.getByText("No rows.")).toBeTruthy();
    expect(screen.getByText("0 rows", { selector: ".row-count" })).toBeTruthy();
  });

  it("summarises counts in words", () => {
    expect(rowSummary(1, 1, false)).toBe("1 row");
    expect(rowSummary(50, 120, false)).toBe("120 rows · showing the first 50");
  });
});
