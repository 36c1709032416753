import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { actionFor } from "../App";
import { Transcript } from "../components/Transcript";
import { historyOf, initialState, reducer, turnsFromHistory, type Action, type ConversationState } from "../conversation";

function run(actions: Action[]): ConversationState {
  return actions.reduce(reducer, initialState);
}

const ANSWER = {
  answer: "Max Verstappen won the 2021 title.",
  sql: "SELECT driver, points FROM standings WHERE year = 2021 LIMIT 2",
  columns: ["driver", "points"],
  rows: [
    ["Max Verstappen", 395.5],
    ["Lewis Hamilton", 387.5],
  ],
  truncated: false,
  chart: "bar" as const,
};

describe("the conversation", () => {
  it("shows the user's partial words, then the final transcript", () => {
    let state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "user.partial", id: "item_1", text: "who won", append: true },
    ]);
    const { rerender } = render(<Transcript turns={state.turns} />);
    expect(screen.getByTestId("user-text").textContent).toContain("who won");
    expect(screen.getByTestId("user-text").closest(".bubble")?.className).toContain("partial");

    state = [
      { type: "user.partial", id: "item_1", text: " the 2021", append: true } as Action,
      { type: "user.final", id: "item_1", text: "Who won the 2021 title?", t: 10 } as Action,
    ].reduce(reducer, state);
    rerender(<Transcript turns={state.turns} />);
    expect(screen.getByTestId("user-text").textContent).toBe("Who won the 2021 title?");
    expect(screen.getByTestId("user-text").closest(".bubble")?.className).not.toContain("partial");
  });

  it("does not mix whole partials from the event stream with data channel deltas", () => {
    const state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "user.partial", id: "item_1", text: "who won the" },
      { type: "user.partial", id: "item_1", text: "who won the 2021" },
      { type: "user.partial", id: "item_1", text: "Who won the 2021 title?", append: true },
    ]);
    expect(state.turns[0]?.userText).toBe("who won the 2021");
  });

  it("streams the answer's text and shows the SQL, rows and chart from the event stream", () => {
    const state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "user.final", id: "item_1", text: "Who won the 2021 title?", t: 10 },
      // The app event stream names the turn its own way: it lands on the current voice turn.
      { type: "answer", id: "turn_engine_7", answer: ANSWER, source: "voice", t: 20 },
      { type: "assistant.started" },
      { type: "assistant.delta", delta: "Max Verstappen " },
      { type: "assistant.delta", delta: "won" },
    ]);
    expect(state.turns).toHaveLength(1);
    render(<Transcript turns={state.turns} />);
    expect(screen.getByTestId("assistant-text").textContent).toBe("Max Verstappen won");
    expect(screen.getByText(ANSWER.sql)).toBeTruthy();
    expect(screen.getByRole("table")).toBeTruthy();
    expect(screen.getByRole("img", { name: "points by driver" })).toBeTruthy();
  });

  it("marks an answer interrupted when the user speaks over it, and only that answer", () => {
    const state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "user.final", id: "item_1", text: "Tell me about 2021", t: 1 },
      { type: "assistant.started" },
      { type: "assistant.delta", delta: "In 2021 the season went to the last lap." },
      { type: "audio.started", t: 2 },
      // Barge-in: new speech, then the server cancels the playing answer (cut to what was heard).
      { type: "voice.speechStarted", id: "item_2", t: 3 },
      { type: "assistant.interrupted", text: "In 2021 the season" },
      { type: "user.final", id: "item_2", text: "And 2022?", t: 4 },
      { type: "assistant.started" },
      { type: "assistant.delta", delta: "In 2022 Max won." },
      { type: "response.done" },
    ]);
    expect(state.turns).toHaveLength(2);
    expect(state.turns[0]?.interrupted).toBe(true);
    expect(state.turns[0]?.assistantText).toBe("In 2021 the season");
    expect(state.turns[1]?.interrupted).toBe(false);
    expect(state.turns[1]?.assistantDone).toBe(true);
    render(<Transcript turns={state.turns} />);
    expect(screen.getAllByText("interrupted")).toHaveLength(1);
    expect(screen.getAllByTestId("user-text").map((e) => e.textContent)).toEqual(["Tell me about 2021", "And 2022?"]);
  });

  it("knows when the assistant is answering: generating or still speaking", () => {
    let state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "assistant.started" },
      { type: "audio.started", t: 1 },
      { type: "response.done" },
    ]);
    expect(state.responding).toBe(true); // the audio still plays
    state = reducer(state, { type: "audio.stopped" });
    expect(state.responding).toBe(false);
  });

  it("ends the response behind Azure's WebRTC filter, which hides response.done", () => {
    let state = run([
      { type: "voice.speechStarted", id: "item_1", t: 0 },
      { type: "user.final", id: "item_1", text: "Who won in 2021?", t: 1 },
      { type: "audio.started", t: 2 },
      { type: "assistant.delta", delta: "Max won." },
    ]);
    expect(state.responding).toBe(true);
    state = reducer(state, { type: "audio.stopped" }); // audio paused, transcript not done: still answering
    expect(state.responding).toBe(true);
    state = reducer(state, { type: "audio.started", t: 3 });
    state = reducer(state, { type: "assistant.done", text: "Max won." });
    expect(state.responding).toBe(true); // done writing, still speaking
    state = reducer(state, { type: "audio.stopped" });
    expect(state.responding).toBe(false);
  });

  it("keeps a typed turn once although the answer arrives twice", () => {
    const state = run([
      { type: "text.asked", id: "turn_a", text: "Who won in 2021?", t: 0 },
      { type: "user.final", id: "turn_a", text: "Who won in 2021?", source: "text", t: 1 },
      { type: "answer", id: "turn_a", answer: ANSWER, source: "text", t: 5 },
      { type: "answer", id: "turn_a", answer: ANSWER, source: "text", t: 6 },
    ]);
    expect(state.turns).toHaveLength(1);
    expect(state.turns[0]?.assistantText).toBe(ANSWER.answer);
    expect(historyOf(state.turns)).toEqual([
      { role: "user", text: "Who won in 2021?" },
      { role: "assistant", text: ANSWER.answer },
    ]);
  });

  it("explains a rejected query", () => {
    const state = run([
      { type: "text.asked", id: "turn_a", text: "drop the table", t: 0 },
      { type: "answer", id: "turn_a", answer: { answer: "I can only read data.", sql: "DROP TABLE x", error: "only SELECT statements are allowed" }, source: "text", t: 1 },
    ]);
    render(<Transcript turns={state.turns} />);
    expect(screen.getByText("The query was rejected.")).toBeTruthy();
    expect(screen.getByText(/only SELECT statements/)).toBeTruthy();
  });

  it("restores stored history after a reload", () => {
    const turns = turnsFromHistory([
      { turn_id: "t1", role: "user", source: "voice", text: "Who won in 2021?", at: 1 },
      { turn_id: "t1", role: "assistant", source: "voice", text: ANSWER.answer, at: 2, sql: ANSWER.sql, columns: ANSWER.columns, rows: ANSWER.rows, row_count: 2 },
    ]);
    expect(turns).toHaveLength(1);
    render(<Transcript turns={turns} />);
    expect(screen.getByText(ANSWER.sql)).toBeTruthy();
    expect(screen.getByText("2 rows", { selector: ".row-count" })).toBeTruthy();
  });

  it("maps data channel events to conversation actions", () => {
    expect(actionFor({ type: "input_audio_buffer.speech_started", item_id: "item_9" }, 5)).toEqual({ type: "voice.speechStarted", id: "item_9", t: 5 });
    expect(actionFor({ type: "response.done", response: { status: "cancelled" } }, 5)).toEqual({ type: "assistant.interrupted", text: undefined });
    expect(
      actionFor({ type: "response.done", response: { status: "cancelled", output: [{ content: [{ transcript: "Max won" }] }] } }, 5),
    ).toEqual({ type: "assistant.interrupted", text: "Max won" });
    expect(actionFor({ type: "response.done", response: { status: "completed" } }, 5)).toEqual({ type: "response.done" });
    expect(actionFor({ type: "output_audio_buffer.started" }, 7)).toEqual({ type: "audio.started", t: 7 });
    expect(actionFor({ type: "session.created" }, 1)).toBeNull();
  });
});
