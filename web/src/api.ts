// The datavox JSON API. The bearer token (when the server needs one) lives in sessionStorage only:
// it is pasted once per tab and never written into the page, the URL or the logs.
import { ApiError, retryAfterSeconds } from "./errors";
import type { AnswerData, RealtimeSession, ServerConfig, StoredConversation } from "./types";

const TOKEN_KEY = "datavox.token";
const CONVERSATION_KEY = "datavox.conversation";

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function getSavedConversation(): string | null {
  try {
    return localStorage.getItem(CONVERSATION_KEY);
  } catch {
    return null;
  }
}

export function saveConversation(id: string | null): void {
  try {
    if (id) localStorage.setItem(CONVERSATION_KEY, id);
    else localStorage.removeItem(CONVERSATION_KEY);
  } catch {
    /* private mode: the conversation just is not restored after a reload */
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const detail = (data as { detail?: unknown } | null)?.detail;
    if (detail && typeof detail === "object" && "code" in detail) {
      const d = detail as { code: string; message?: string };
      throw new ApiError(res.status, d.code, d.message ?? "", retryAfterSeconds(res.headers.get("Retry-After")));
    }
    const code = res.status === 401 ? "unauthorized" : res.status === 429 ? "rate_limited" : `http_${res.status}`;
    throw new ApiError(res.status, code, typeof detail === "string" ? detail : `HTTP ${res.status}`);
  }
  return data as T;
}

export const api = {
  config: () => call<ServerConfig>("GET", "/api/config"),
  newConversation: () => call<{ conversation_id: string }>("POST", "/api/conversations"),
  conversation: (id: string) => call<StoredConversation>("GET", `/api/conversations/${encodeURIComponent(id)}`),
  ask: (body: {
    question: string;
    history: { role: "user" | "assistant"; text: string }[];
    conversation_id: string | null;
    turn_id: string;
  }) => call<AnswerData & { conversation_id: string; turn_id: string }>("POST", "/api/ask", body),
  realtimeSession: (body: { conversation_id: string | null; voice: string }) =>
    call<RealtimeSession>("POST", "/api/realtime/session", body),
  attachCall: (url: string, body: { call_id: string; secret: string; conversation_id: string }) =>
    call<void>("POST", url, body),
  reportTimings: (conversationId: string, turnId: string, timings: Record<string, number>) =>
    call<void>("POST", `/api/conversations/${encodeURIComponent(conversationId)}/timings`, {
      turn_id: turnId,
      timings_ms: timings,
    }),
};

export function newTurnId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return `turn_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
