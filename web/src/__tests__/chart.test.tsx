import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MAX_BARS, chooseChart } from "../chart";
import { Chart } from "../components/Chart";

describe("chooseChart", () => {
  it("draws bars for a category against a number", () => {
    const spec = chooseChart(["constructor", "wins"], [["Ferrari", 248], ["McLaren", 203], ["Mercedes", 129]]);
    expect(spec?.kind).toBe("bar");
    expect(spec?.points.map((p) => p.label)).toEqual(["Ferrari", "McLaren", "Mercedes"]);
  });

  it("draws a line for years against a number, in year order", () => {
    const spec = chooseChart(["year", "points"], [[2021, 395.5], [2019, 278], [2020, 214]]);
    expect(spec?.kind).toBe("line");
    expect(spec?.points.map((p) => p.label)).toEqual(["2019", "2020", "2021"]);
  });

  it("uses the numeric column beside text ids and names", () => {
    const spec = chooseChart(["driver_id", "name", "total_wins"], [["hamilton", "Lewis Hamilton", 105], ["schumacher", "Michael Schumacher", 91]]);
    expect(spec?.kind).toBe("bar");
    expect(spec?.y).toBe(2);
  });

  it("works for a data set it has never seen", () => {
    const spec = chooseChart(["region", "revenue_eur"], [["North", "1200.50"], ["South", "980"]]);
    expect(spec?.kind).toBe("bar");
    expect(spec?.points[0]?.value).toBe(1200.5);
  });

  it("follows a bar hint for a short time series", () => {
    expect(chooseChart(["season", "wins"], [[2022, 15], [2023, 19], [2024, 9]], "bar")?.kind).toBe("bar");
  });

  it("draws nothing when a chart would not help", () => {
    expect(chooseChart(["answer"], [[42]])).toBeNull(); // one column
    expect(chooseChart(["driver", "wins"], [["Hamilton", 105]])).toBeNull(); // one row
    expect(chooseChart(["driver", "team"], [["A", "X"], ["B", "Y"]])).toBeNull(); // no number
    expect(chooseChart(["driver", "year", "pos"], [["A", 2020, 1], ["A", 2020, 2]])).toBeNull(); // repeated x
    const many = Array.from({ length: MAX_BARS + 1 }, (_, i) => [`d${i}`, i]);
    expect(chooseChart(["driver", "wins"], many)).toBeNull();
  });
});

describe("Chart", () => {
  it("renders an accessible SVG bar chart", () => {
    const spec = chooseChart(["constructor", "wins"], [["Ferrari", 248], ["McLaren", 203]]);
    if (!spec) throw new Error("expected a chart");
    const { container } = render(<Chart spec={spec} xName="constructor" yName="wins" />);
    expect(screen.getByRole("img", { name: "wins by constructor" })).toBeTruthy();
    expect(container.querySelectorAll("rect.chart-bar")).toHaveLength(2);
  });

  it("renders a line chart with one dot per year", () => {
    const spec = chooseChart(["year", "points"], [[2019, 1], [2020, 2], [2021, 3]]);
    if (!spec) throw new Error("expected a chart");
    const { container } = render(<Chart spec={spec} xName="year" yName="points" />);
    expect(container.querySelector("svg")?.getAttribute("data-kind")).toBe("line");
    expect(container.querySelectorAll("circle")).toHaveLength(3);
  });
});
