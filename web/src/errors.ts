// Errors people understand: what happened, and what to do about it.

export interface Problem {
  code: string;
  title: string;
  action: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked us to wait before trying again (`Retry-After`), when it said. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(1, Math.ceil(Number(trimmed)));
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - now) / 1000));
}

const KNOWN: Record<string, Omit<Problem, "code">> = {
  mic_denied: {
    title: "The microphone is blocked.",
    action:
      "Allow microphone access for this page (the icon in the address bar), then press Start again. You can also type your question below.",
  },
  mic_missing: {
    title: "No microphone was found.",
    action: "Connect a microphone and press Start again, or type your question below.",
  },
  unreachable: {
    title: "The datavox server cannot be reached.",
    action: "Check that `datavox serve` is running and that you are online, then reload the page.",
  },
  engine_busy: {
    title: "The voice engine is busy with other conversations.",
    action: "Try again in a minute, or type your question below.",
  },
  secret_expired: {
    title: "The voice session expired before it started.",
    action: "Press Start again for a fresh one; your conversation so far is kept.",
  },
  query_rejected: {
    title: "The query was rejected.",
    action: "Rephrase the question, for example name the season or the driver.",
  },
  store_unavailable: {
    title: "Earlier turns cannot be shown right now: the conversation database is unreachable.",
    action: "Keep asking; new turns are saved when it returns. Reload later to see the whole conversation.",
  },
  rate_limited: {
    title: "Too many requests in a short time.",
    action: "Wait a few seconds and try again.",
  },
  unauthorized: {
    title: "This server needs an access token.",
    action: "Paste the token you were given (DATAVOX_API_TOKEN) into the field below.",
  },
  engine_unavailable: {
    title: "Voice is not available on this server right now.",
    action: "Type your question below, or ask the administrator to check `datavox doctor`.",
  },
  engine_not_supported: {
    title: "This voice engine is not available yet.",
    action: "Start datavox with --engine local to talk, or type your question below.",
  },
  connection_lost: {
    title: "The voice connection dropped.",
    action: "Press Start to reconnect; your conversation so far is kept.",
  },
  brain_failed: {
    title: "Something went wrong answering that question.",
    action: "Try rephrasing it.",
  },
};

export function problemFor(code: string, serverMessage?: string, retryAfterS?: number): Problem {
  if (code === "engine_busy" && retryAfterS !== undefined) {
    // The engine refused a new conversation to keep the others fast; it said when a place frees up.
    return { code, title: "Voice is busy.", action: `Type your question below, or try again in ${retryAfterS} s.` };
  }
  const known = KNOWN[code];
  if (known) return { code, ...known };
  return {
    code,
    title: serverMessage || "Something went wrong.",
    action: "Try again; if it keeps happening, reload the page.",
  };
}

/** Map anything thrown by the mic, fetch or WebRTC code to a problem the page can show. */
export function problemFromError(err: unknown): Problem {
  if (err instanceof ApiError) {
    if (err.code === "engine_busy" && err.retryAfterS !== undefined) return problemFor(err.code, err.message, err.retryAfterS);
    const p = problemFor(err.code, err.message);
    // The server's sentence is more specific than ours when it names a wait time or an engine.
    return err.code in KNOWN && err.message && err.code !== "unauthorized" ? { ...p, action: err.message } : p;
  }
  if (err instanceof DOMException || (err instanceof Error && /^(NotAllowed|NotFound|Security)Error$/.test(err.name))) {
    const name = (err as Error).name;
    if (name === "NotAllowedError" || name === "SecurityError") return problemFor("mic_denied");
    if (name === "NotFoundError") return problemFor("mic_missing");
  }
  if (err instanceof TypeError) return problemFor("unreachable");
  const message = err instanceof Error ? err.message : String(err);
  return problemFor("unknown", message);
}
