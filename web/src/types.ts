// The shapes the server sends (see src/datavox/types.py and src/datavox/server/events.py).

export type Cell = string | number | boolean | null;
export type ChartHint = "bar" | "line" | null;

/** `Answer.to_dict()` from the brain, as `/api/ask` and the `answer` event carry it. */
export interface AnswerData {
  question?: string;
  intent?: string;
  answer?: string;
  engine?: string;
  sql?: string | null;
  columns?: string[];
  rows?: Cell[][];
  truncated?: boolean;
  chart?: ChartHint;
  timings_ms?: Record<string, number>;
  error?: string | null;
  resolved_question?: string | null;
  fallback_reason?: string | null;
  /** Stored history keeps only a preview of the rows; `row_count` is the full count. */
  row_count?: number;
}

export interface AppEvent {
  type: string;
  conversation_id?: string;
  turn_id?: string;
  at?: number;
  source?: string;
  text?: string;
  answer?: AnswerData;
  timings_ms?: Record<string, number>;
  code?: string;
  message?: string;
  /** `engine` events (cloud engines): which engine answers now, and why. */
  engine?: string;
  reason?: string;
  /** `service` events: "ok" or "degraded", and what is down, in words for people. */
  status?: string;
  problems?: string[];
}

export interface ServerConfig {
  version: string;
  engine: "local" | "azure" | "openai" | string;
  engine_label: string;
  realtime_available: boolean;
  voices: string[];
  voice: string;
  auth_required: boolean;
  credits: string;
}

export interface RealtimeSession {
  engine: string;
  secret: string;
  expires_at: number | null;
  calls_url: string;
  conversation_id: string;
  voice: string;
  model: string;
  /** Cloud engines, `connect = direct`: where to tell datavox the call id, so it can join the call. */
  attach_url?: string;
  /** Set when the local engine took this session instead of the configured cloud. */
  fallback_reason?: string;
}

export interface StoredTurn extends AnswerData {
  turn_id: string;
  role: "user" | "assistant";
  source: string;
  text: string;
  at: number;
}

export interface StoredConversation {
  id: string;
  created_at: number;
  updated_at: number;
  turns: StoredTurn[];
}

/** A realtime protocol event (GA), as sent on the WebRTC data channel. */
export interface RealtimeEvent {
  type: string;
  [key: string]: unknown;
}
