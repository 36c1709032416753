import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ServiceNotice, serviceFrom } from "../components/ServiceNotice";

describe("ServiceNotice", () => {
  it("says what is down while the server is degraded", () => {
    const service = serviceFrom({
      status: "degraded",
      problems: ["Saving is delayed: the conversation database is unreachable.", "Live updates are paused."],
    });
    render(<ServiceNotice service={service} />);
    expect(screen.getByRole("status").textContent).toContain("Part of the service is down.");
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "Saving is delayed: the conversation database is unreachable.",
      "Live updates are paused.",
    ]);
  });

  it("goes away when the server is well again", () => {
    const { container } = render(<ServiceNotice service={serviceFrom({ status: "ok", problems: [] })} />);
    expect(container.innerHTML).toBe("");
  });

  it("ignores malformed events", () => {
    expect(serviceFrom({ status: "degraded", problems: "nope" })).toEqual({ status: "ok", problems: [] });
    expect(serviceFrom({ status: "degraded", problems: [1, "x"] })).toEqual({ status: "degraded", problems: ["x"] });
  });
});
