import { describe, expect, it } from "vitest";
import { ApiError, problemFor, problemFromError, retryAfterSeconds } from "../errors";

describe("a busy voice engine", () => {
  it("tells people to type or to come back in the seconds the server gave", () => {
    const p = problemFromError(new ApiError(429, "engine_busy", "The voice engine is busy.", 12));
    expect(p.title).toBe("Voice is busy.");
    expect(p.action).toBe("Type your question below, or try again in 12 s.");
  });

  it("falls back to the server's sentence without a Retry-After", () => {
    const p = problemFromError(new ApiError(429, "engine_busy", "Try again in a minute, or type your question."));
    expect(p.title).toMatch(/busy/);
    expect(p.action).toBe("Try again in a minute, or type your question.");
  });

  it("reads Retry-After in seconds or as a date", () => {
    expect(retryAfterSeconds("30")).toBe(30);
    expect(retryAfterSeconds("2.5")).toBe(3);
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(retryAfterSeconds("soon")).toBeUndefined();
    const now = Date.parse("Fri, 04 Dec 2026 16:00:00 GMT");
    expect(retryAfterSeconds("Fri, 04 Dec 2026 16:00:20 GMT", now)).toBe(20);
    expect(retryAfterSeconds("Fri, 04 Dec 2026 15:00:00 GMT", now)).toBe(1);
  });

  it("keeps other problems as they were", () => {
    expect(problemFor("engine_busy").action).toMatch(/type your question/i);
    expect(problemFor("mic_denied").title).toMatch(/microphone/);
  });
});
