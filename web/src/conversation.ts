// The conversation as the page shows it: one Turn per question, filled from three sources that arrive in
// any order — the realtime data channel (speech, partial transcripts, the spoken answer's text), the app
// event stream (final transcripts, SQL, rows, chart) and `/api/ask` for typed questions.
import type { AnswerData, StoredTurn } from "./types";

/** Arrival times (performance.now(), ms) of the stages of a turn, as this page saw them. */
export interface Marks {
  speechEnd?: number;
  transcript?: number;
  sql?: number;
  firstAudio?: number;
  sent?: number;
  answered?: number;
}

export interface Turn {
  id: string;
  source: "voice" | "text";
  userText: string;
  userFinal: boolean;
  assistantText: string;
  assistantDone: boolean;
  interrupted: boolean;
  pending: boolean;
  answer: AnswerData | null;
  marks: Marks;
  /** Partials came from the app event stream (whole text so far): data channel deltas are then skipped. */
  partialFromApp?: boolean;
  /** The engine's own stage timings for a voice turn (`timings` app event). */
  timings: Record<string, number>;
}

export interface ConversationState {
  turns: Turn[];
  /** The voice turn the data channel is talking about now. */
  voiceTurn: string | null;
  /** Other ids (engine item ids, app event turn ids) of the same turn. */
  aliases: Record<string, string>;
  /** The turn the current (or last) spoken response belongs to: cancel and audio events go there. */
  responseTurn: string | null;
  /** A response is being generated (response.created → response.done). */
  generating: boolean;
  /** Its audio is playing (output_audio_buffer.started → stopped or cleared). */
  playing: boolean;
  /** The assistant is answering: generating or still speaking. */
  responding: boolean;
}

export type Action =
  | { type: "reset"; turns?: Turn[] }
  | { type: "history.merge"; turns: Turn[] }
  | { type: "text.asked"; id: string; text: string; t: number }
  | { type: "text.failed"; id: string; message: string }
  | { type: "voice.speechStarted"; id?: string; t: number }
  | { type: "voice.speechStopped"; t: number }
  | { type: "user.partial"; id?: string; text: string; append?: boolean }
  | { type: "user.final"; id?: string; text: string; source?: string; t: number }
  | { type: "assistant.started" }
  | { type: "assistant.delta"; delta: string }
  | { type: "assistant.done"; text?: string }
  | { type: "response.done" }
  | { type: "assistant.interrupted"; text?: string }
  | { type: "audio.started"; t: number }
  | { type: "audio.stopped" }
  | { type: "answer"; id?: string; answer: AnswerData; source?: string; t: number }
  | { type: "timings"; id?: string; timings: Record<string, number> }
  | { type: "turn.cancelled"; id?: string };

export const initialState: ConversationState = {
  turns: [],
  voiceTurn: null,
  aliases: {},
  responseTurn: null,
  generating: false,
  playing: false,
  responding: false,
};

let localCounter = 0;
function localId(): string {
  localCounter += 1;
  return `local_${Date.now().toString(36)}_${localCounter}`;
}

export function emptyTurn(id: string, source: "voice" | "text"): Turn {
  return {
    id,
    source,
    userText: "",
    userFinal: false,
    assistantText: "",
    assistantDone: false,
    interrupted: false,
    pending: false,
    answer: null,
    marks: {},
    timings: {},
  };
}

function patch(state: ConversationState, id: string, change: (turn: Turn) => Turn): ConversationState {
  return { ...state, turns: state.turns.map((t) => (t.id === id ? change(t) : t)) };
}

function resolve(state: ConversationState, id: string | undefined): string | undefined {
  if (!id) return undefined;
  const real = state.aliases[id] ?? id;
  return state.turns.some((t) => t.id === real) ? real : undefined;
}

/**
 * The turn an event belongs to: its own id (or an alias of it), else the current voice turn (voice events
 * carry engine ids the page has not seen), else a new turn. Returns the state with the turn in it.
 */
function target(
  state: ConversationState,
  id: string | undefined,
  source: "voice" | "text",
): [ConversationState, string] {
  const known = resolve(state, id);
  if (known) return [state, known];
  if (source === "voice" && state.voiceTurn) {
    const aliases = id ? { ...state.aliases, [id]: state.voiceTurn } : state.aliases;
    return [{ ...state, aliases }, state.voiceTurn];
  }
  const turn = emptyTurn(id ?? localId(), source);
  const voiceTurn = source === "voice" ? turn.id : state.voiceTurn;
  return [{ ...state, turns: [...state.turns, turn], voiceTurn }, turn.id];
}

function flags(state: ConversationState, change: Partial<ConversationState>): ConversationState {
  const next = { ...state, ...change };
  return { ...next, responding: next.generating || next.playing };
}

/** The turn a response event is about: the response's own turn, else the current voice turn (or a new one). */
function responseTarget(state: ConversationState): [ConversationState, string] {
  if (state.responseTurn && state.turns.some((t) => t.id === state.responseTurn)) return [state, state.responseTurn];
  return target(state, undefined, "voice");
}

export function reducer(state: ConversationState, action: Action): ConversationState {
  switch (action.type) {
    case "reset":
      return { ...initialState, turns: action.turns ?? [] };

    case "history.merge":
      return { ...state, turns: mergeHistory(state.turns, action.turns) };

    case "text.asked": {
      const turn = { ...emptyTurn(action.id, "text"), userText: action.text, userFinal: true, pending: true };
      turn.marks = { sent: action.t };
      return { ...state, turns: [...state.turns, turn] };
    }

    case "text.failed":
      return patch(state, action.id, (t) => ({
        ...t,
        pending: false,
        assistantDone: true,
        answer: { ...(t.answer ?? {}), error: action.message },
      }));

    case "voice.speechStarted": {
      // Whether this interrupts the answer is the server's call (VAD barge-in, half-duplex): the page learns it
      // from response.done (cancelled) and output_audio_buffer.cleared, which name the response's own turn.
      const current = state.turns.find((t) => t.id === state.voiceTurn);
      if (current && !current.userText && !current.answer && !current.assistantText) {
        // The previous start had no words in it (a cough, a false start): reuse that turn.
        const aliases = action.id ? { ...state.aliases, [action.id]: current.id } : state.aliases;
        return { ...state, aliases };
      }
      const turn = { ...emptyTurn(action.id ?? localId(), "voice"), pending: true };
      return { ...state, turns: [...state.turns, turn], voiceTurn: turn.id };
    }

    case "voice.speechStopped":
      if (!state.voiceTurn) return state;
      return patch(state, state.voiceTurn, (t) => ({ ...t, marks: { ...t.marks, speechEnd: action.t } }));

    case "user.partial": {
      const [next, id] = target(state, action.id, "voice");
      return patch(next, id, (t) => {
        if (t.userFinal) return t;
        if (!action.append) return { ...t, userText: action.text, partialFromApp: true };
        // The two channels may both report partials; mixing whole texts with deltas would garble them.
        return t.partialFromApp ? t : { ...t, userText: t.userText + action.text };
      });
    }

    case "user.final": {
      const source = action.source === "text" ? "text" : "voice";
      const [next, id] = target(state, action.id, source);
      return patch(next, id, (t) => ({
        ...t,
        userText: action.text || t.userText,
        userFinal: true,
        pending: !t.answer,
        marks: { ...t.marks, transcript: t.marks.transcript ?? action.t },
      }));
    }

    case "assistant.started": {
      const [next, id] = target(state, undefined, "voice");
      return flags(next, { responseTurn: id, generating: true });
    }

    case "assistant.delta": {
      const [next, id] = responseTarget(state);
      const out = patch(next, id, (t) => ({ ...t, assistantText: t.assistantText + action.delta }));
      return flags(out, { responseTurn: id, generating: true });
    }

    case "assistant.done": {
      const [next, id] = responseTarget(state);
      return patch(next, id, (t) => ({
        ...t,
        assistantText: action.text || t.assistantText || t.answer?.answer || "",
        assistantDone: true,
      }));
    }

    case "response.done": {
      if (!state.responseTurn) return flags(state, { generating: false });
      const next = patch(state, state.responseTurn, (t) => ({
        ...t,
        assistantText: t.assistantText || t.answer?.answer || "",
        assistantDone: true,
      }));
      return flags(next, { generating: false });
    }

    case "assistant.interrupted": {
      if (!state.responseTurn) return flags(state, { generating: false, playing: false });
      const next = patch(state, state.responseTurn, (t) => ({
        ...t,
        // What was actually heard, when the server says (the item truncated at barge-in).
        assistantText: action.text || t.assistantText,
        interrupted: true,
        assistantDone: true,
      }));
      return flags(next, { generating: false, playing: false });
    }

    case "audio.started": {
      const [next, id] = responseTarget(state);
      const out = patch(next, id, (t) => ({ ...t, marks: { ...t.marks, firstAudio: t.marks.firstAudio ?? action.t } }));
      return flags(out, { playing: true });
    }

    case "audio.stopped": {
      // Azure's WebRTC filter (`?webrtcfilter=on`) hides response.created/done from the page: there, a
      // finished transcript and stopped audio are the end of the response.
      const turn = state.turns.find((t) => t.id === state.responseTurn);
      return flags(state, turn?.assistantDone ? { playing: false, generating: false } : { playing: false });
    }

    case "timings": {
      const [next, id] = target(state, action.id, "voice");
      return patch(next, id, (t) => ({ ...t, timings: { ...t.timings, ...action.timings } }));
    }

    case "turn.cancelled": {
      const id = resolve(state, action.id);
      if (!id) return state;
      const next = patch(state, id, (t) => ({ ...t, interrupted: true, assistantDone: true, pending: false }));
      return id === state.responseTurn ? flags(next, { generating: false, playing: false }) : next;
    }

    case "answer": {
      const source = action.source === "text" ? "text" : "voice";
      const [next, id] = target(state, action.id, source);
      return patch(next, id, (t) => ({
        ...t,
        answer: action.answer,
        pending: false,
        // Typed turns have no audio: the answer's text is the whole reply. A voice turn shows the words as
        // they are spoken (the data channel's transcript), and the answer's text only if none came.
        assistantText:
          t.source === "text" || (t.assistantDone && !t.assistantText) ? (action.answer.answer ?? t.assistantText) : t.assistantText,
        assistantDone: t.source === "text" ? true : t.assistantDone,
        userText: t.userText || action.answer.question || "",
        marks: {
          ...t.marks,
          sql: t.marks.sql ?? action.t,
          answered: t.source === "text" ? (t.marks.answered ?? action.t) : t.marks.answered,
        },
      }));
    }
  }
}

/** Turns from `/api/conversations/{id}` (stored user and assistant rows) back into page turns. */
export function turnsFromHistory(stored: StoredTurn[]): Turn[] {
  const byId = new Map<string, Turn>();
  const order: string[] = [];
  for (const row of stored) {
    let turn = byId.get(row.turn_id);
    if (!turn) {
      turn = emptyTurn(row.turn_id, row.source === "text" ? "text" : "voice");
      byId.set(row.turn_id, turn);
      order.push(row.turn_id);
    }
    if (row.role === "user") {
      turn.userText = row.text;
      turn.userFinal = true;
    } else {
      turn.assistantText = row.text;
      turn.assistantDone = true;
      const { turn_id: _id, role: _role, source: _source, text, at: _at, ...data } = row;
      turn.answer = { ...data, answer: text };
    }
  }
  return order.map((id) => byId.get(id) as Turn);
}

/**
 * The stored conversation with what this page already shows: turns it missed (answered on another server
 * while live updates were paused) are added in the stored order; turns it has keep their state and timings;
 * its own turns not stored yet stay at the end.
 */
export function mergeHistory(local: Turn[], stored: Turn[]): Turn[] {
  const mine = new Map(local.map((t) => [t.id, t]));
  const merged = stored.map((t) => {
    const have = mine.get(t.id);
    if (!have) return t;
    return have.answer || !t.answer ? have : { ...have, answer: t.answer, assistantText: t.assistantText, assistantDone: true };
  });
  const storedIds = new Set(stored.map((t) => t.id));
  return [...merged, ...local.filter((t) => !storedIds.has(t.id))];
}

/** What the brain needs of earlier turns: role and text, oldest first. */
export function historyOf(turns: Turn[]): { role: "user" | "assistant"; text: string }[] {
  const out: { role: "user" | "assistant"; text: string }[] = [];
  for (const t of turns) {
    if (t.userText && t.userFinal) out.push({ role: "user", text: t.userText });
    if (t.assistantText && t.assistantDone) out.push({ role: "assistant", text: t.assistantText });
  }
  return out.slice(-20);
}
