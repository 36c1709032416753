import { describe, expect, it } from "vitest";
import { initialState, mergeHistory, reducer, turnsFromHistory } from "../conversation";

const stored = (turn_id: string, role: "user" | "assistant", text: string) => ({
  turn_id,
  role,
  source: "text",
  text,
  at: 0,
});

describe("merging the stored conversation after live updates were paused", () => {
  it("adds the turns answered elsewhere in order, keeps this page's own state and unsaved turns", () => {
    let state = reducer(initialState, { type: "text.asked", id: "t1", text: "first?", t: 100 });
    state = reducer(state, { type: "text.asked", id: "t3", text: "mine, not stored yet", t: 300 });
    const fromServer = turnsFromHistory([
      stored("t1", "user", "first?"),
      stored("t1", "assistant", "First answer."),
      stored("t2", "user", "asked on another server"),
      stored("t2", "assistant", "Its answer."),
    ]);
    const merged = reducer(state, { type: "history.merge", turns: fromServer }).turns;
    expect(merged.map((t) => t.id)).toEqual(["t1", "t2", "t3"]);
    expect(merged[0]!.marks.sent).toBe(100); // this page's timings are kept
    expect(merged[0]!.answer?.answer).toBe("First answer."); // the answer it missed is filled in
    expect(merged[1]!.userText).toBe("asked on another server");
    expect(merged[1]!.assistantText).toBe("Its answer.");
    expect(merged[2]!.userText).toBe("mine, not stored yet");
  });

  it("changes nothing when the page already has everything", () => {
    const turns = turnsFromHistory([stored("t1", "user", "q"), stored("t1", "assistant", "a")]);
    expect(mergeHistory(turns, turns)).toEqual(turns);
  });
});
