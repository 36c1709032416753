import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LatencyStrip, voiceStages } from "../components/LatencyStrip";

describe("LatencyStrip", () => {
  it("shows end of speech → transcript → SQL → first audio for a voice turn", () => {
    const { container } = render(
      <LatencyStrip source="voice" marks={{ speechEnd: 1000, transcript: 1180.4, sql: 1320, firstAudio: 1610 }} />,
    );
    const steps = Array.from(container.querySelectorAll(".latency-steps li")).map((li) => li.textContent);
    expect(steps).toEqual(["End of speech 0 ms", "Transcript +180 ms", "SQL +320 ms", "First audio +610 ms"]);
  });

  it("shows a dash for stages that have not happened", () => {
    expect(voiceStages({ speechEnd: 10, transcript: 60 }).map((s) => s.ms)).toEqual([50, null, null]);
    const { container } = render(<LatencyStrip source="voice" marks={{ speechEnd: 10, transcript: 60 }} />);
    expect(container.querySelector('[data-stage="first_audio"]')?.textContent).toBe("First audio —");
  });

  it("shows question → answer and the server's stages for a typed turn", () => {
    render(<LatencyStrip source="text" marks={{ sent: 100, answered: 142 }} serverTimings={{ sql_ms: 1.53, execute_ms: 2, total_ms: 4 }} />);
    expect(screen.getByText("Question → answer")).toBeTruthy();
    expect(screen.getByText("42 ms")).toBeTruthy();
    expect(screen.getByText(/sql 1.5 ms/)).toBeTruthy();
    expect(screen.getByText(/brain total 4 ms/)).toBeTruthy();
  });

  it("renders nothing when there is nothing to show", () => {
    const { container } = render(<LatencyStrip source="voice" marks={{}} />);
    expect(container.innerHTML).toBe("");
  });
});
