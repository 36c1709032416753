import { act, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MicMeter } from "../components/MicMeter";

describe("MicMeter", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads the level every 80 ms while active and shows zero when not", () => {
    vi.useFakeTimers();
    const read = vi.fn(() => 0.1);
    const { rerender } = render(<MicMeter read={read} active={true} />);
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("0");
    act(() => {
      vi.advanceTimersByTime(170);
    });
    expect(read).toHaveBeenCalledTimes(2);
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("40");
    rerender(<MicMeter read={read} active={false} />);
    act(() => {
      vi.advanceTimersByTime(400);
    });
    expect(read).toHaveBeenCalledTimes(2);
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("0");
  });
});
