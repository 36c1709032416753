import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, getSavedConversation, getToken, newTurnId, saveConversation, setToken } from "./api";
import { audioContext, meter, type LevelMeter } from "./audio";
import { historyOf, initialState, reducer, turnsFromHistory, type Action, type Turn } from "./conversation";
import { ApiError, problemFor, problemFromError, type Problem } from "./errors";
import { EventStream, type StreamState } from "./eventStream";
import { RealtimeCall, type CallState } from "./realtime";
import type { AppEvent, RealtimeEvent, ServerConfig } from "./types";
import { EventLog, summarise, type LogEntry } from "./components/EventLog";
import { MicMeter } from "./components/MicMeter";
import { ServiceNotice, serviceFrom, type ServiceState } from "./components/ServiceNotice";
import { Transcript } from "./components/Transcript";

type Phase = "idle" | "starting" | "connecting" | "connected";
const MAX_LOG = 300;

declare global {
  interface Window {
    /** For the browser tests: the live call and the answer audio's loudest level so far. */
    __datavox?: { pc: () => RTCPeerConnection | null; remotePeak: () => number };
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** What a realtime data channel event means for the conversation view. */
export function actionFor(ev: RealtimeEvent, t: number): Action | null {
  switch (ev.type) {
    case "input_audio_buffer.speech_started":
      return { type: "voice.speechStarted", id: str(ev.item_id) || undefined, t };
    case "input_audio_buffer.speech_stopped":
      return { type: "voice.speechStopped", t };
    case "conversation.item.input_audio_transcription.delta":
      return { type: "user.partial", id: str(ev.item_id) || undefined, text: str(ev.delta), append: true };
    case "conversation.item.input_audio_transcription.completed":
      return { type: "user.final", id: str(ev.item_id) || undefined, text: str(ev.transcript), source: "voice", t };
    case "response.created":
      return { type: "assistant.started" };
    case "response.output_audio_transcript.delta":
    case "response.output_text.delta":
      return { type: "assistant.delta", delta: str(ev.delta) };
    case "response.output_audio_transcript.done":
      return { type: "assistant.done", text: str(ev.transcript) };
    case "response.output_text.done":
      return { type: "assistant.done", text: str(ev.text) };
    case "response.done": {
      const response = (ev.response ?? {}) as { status?: string; output?: { content?: { transcript?: unknown; text?: unknown }[] }[] };
      if (response.status !== "cancelled") return { type: "response.done" };
      // A cancelled response's item is cut to what was heard: show that, not the whole answer.
      const heard = (response.output ?? []).flatMap((o) => o.content ?? []).map((c) => str(c.transcript) || str(c.text)).join(" ");
      return { type: "assistant.interrupted", text: heard.trim() || undefined };
    }
    case "output_audio_buffer.started":
      return { type: "audio.started", t };
    case "output_audio_buffer.stopped":
      return { type: "audio.stopped" };
    case "output_audio_buffer.cleared":
      return { type: "assistant.interrupted" };
    default:
      return null;
  }
}

export function App() {
  const [config, setConfig] = useState<ServerConfig | null>(null);
  const [needToken, setNeedToken] = useState(false);
  const [tokenDraft, setTokenDraft] = useState("");
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [conv, dispatch] = useReducer(reducer, initialState);
  const [phase, setPhase] = useState<Phase>("idle");
  const [stream, setStream] = useState<StreamState>("connecting");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [service, setService] = useState<ServiceState>({ status: "ok", problems: [] });
  const [voice, setVoice] = useState("marin");
  const [question, setQuestion] = useState("");
  const [log, setLog] = useState<LogEntry[]>([]);
  const [booting, setBooting] = useState(true);
  // Which engine answers now and why, when it is not the configured one (cloud fallback to local).
  const [engineNow, setEngineNow] = useState<{ engine: string; reason: string } | null>(null);

  const callRef = useRef<RealtimeCall | null>(null);
  // A cloud call that must move on (fallback to the local engine, or the provider's session limit near):
  // end it and start the next session, which the server gives to the right engine with the conversation.
  const callEngineRef = useRef<string>("");
  const restartCallRef = useRef<() => void>(() => undefined);
  const [restartWanted, setRestartWanted] = useState(false);
  const micRef = useRef<MediaStream | null>(null);
  const micMeterRef = useRef<LevelMeter | null>(null);
  const remoteMeterRef = useRef<LevelMeter | null>(null);
  const audioRef = useRef<HTMLAudioElement | null>(null);
  const turnsRef = useRef<Turn[]>([]);
  const logN = useRef(0);
  const reported = useRef(new Set<string>());
  turnsRef.current = conv.turns;

  const addLog = useCallback((channel: LogEntry["channel"], direction: LogEntry["direction"], event: Record<string, unknown>) => {
    logN.current += 1;
    const entry: LogEntry = { n: logN.current, t: Date.now(), channel, direction, type: str(event.type), summary: summarise(event) };
    setLog((prev) => [...prev.slice(-(MAX_LOG - 1)), entry]);
  }, []);

  // --- start-up: settings, then the conversation (restored after a reload) -------------------------
  const boot = useCallback(async () => {
    setBooting(true);
    let later: Problem | null = null;
    try {
      const cfg = await api.config();
      setConfig(cfg);
      setVoice(cfg.voice);
      let id = getSavedConversation();
      if (id) {
        try {
          const saved = await api.conversation(id);
          dispatch({ type: "reset", turns: turnsFromHistory(saved.turns) });
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) id = null;
          else if (err instanceof ApiError && err.code === "store_unavailable") later = problemFromError(err);
          else throw err;
        }
      }
      if (!id) {
        id = (await api.newConversation()).conversation_id;
        saveConversation(id);
        dispatch({ type: "reset" });
      }
      setConversationId(id);
      setProblem(later);
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthorized") setNeedToken(true);
      else setProblem(problemFromError(err));
    } finally {
      setBooting(false);
    }
  }, []);

  useEffect(() => {
    void boot();
    window.__datavox = { pc: () => callRef.current?.pc ?? null, remotePeak: () => remoteMeterRef.current?.peak() ?? 0 };
  }, [boot]);

  // --- the app event stream for this conversation ---------------------------------------------------
  useEffect(() => {
    if (!conversationId) return;
    const es = new EventStream({
      conversationId,
      token: getToken(),
      onState: (s, code) => {
        setStream(s);
        if (code === 4401) setNeedToken(true);
      },
      onEvent: (ev: AppEvent) => {
        addLog("app", "in", ev as unknown as Record<string, unknown>);
        const t = performance.now();
        const id = ev.turn_id;
        if (ev.type === "transcript.partial") dispatch({ type: "user.partial", id, text: ev.text ?? "" });
        else if (ev.type === "transcript.final") dispatch({ type: "user.final", id, text: ev.text ?? "", source: ev.source, t });
        else if (ev.type === "answer" && ev.answer) dispatch({ type: "answer", id, answer: ev.answer, source: ev.source, t });
        else if (ev.type === "timings" && ev.timings_ms) dispatch({ type: "timings", id, timings: ev.timings_ms });
        else if (ev.type === "turn.cancelled") dispatch({ type: "turn.cancelled", id });
        else if (ev.type === "error") setProblem(problemFor(ev.code ?? "error", ev.message));
        else if (ev.type === "service") {
          const next = serviceFrom(ev);
          setService((prev) => {
            // Live updates were paused: fetch what other servers answered meanwhile.
            if (prev.status === "degraded" && next.status === "ok") {
              void api
                .conversation(conversationId)
                .then((saved) => dispatch({ type: "history.merge", turns: turnsFromHistory(saved.turns) }))
                .catch(() => undefined);
            }
            return next;
          });
        }
        else if (ev.type === "engine" && ev.engine) {
          setEngineNow({ engine: ev.engine, reason: ev.reason ?? "" });
          if (ev.engine === "local" && callRef.current && callEngineRef.current !== "local") setRestartWanted(true);
        } else if (ev.type === "session.renew" && callRef.current) setRestartWanted(true);
      },
    });
    return () => es.close();
  }, [conversationId, addLog]);

  // --- send the page's voice timings to /metrics once a turn has them all ------------------------
  useEffect(() => {
    if (!conversationId) return;
    for (const t of conv.turns) {
      const m = t.marks;
      if (t.source !== "voice" || m.speechEnd === undefined || m.firstAudio === undefined || reported.current.has(t.id)) continue;
      reported.current.add(t.id);
      const timings: Record<string, number> = { first_audio: Math.max(0, m.firstAudio - m.speechEnd) };
      if (m.transcript !== undefined) timings.transcript = Math.max(0, m.transcript - m.speechEnd);
      if (m.sql !== undefined) timings.sql = Math.max(0, m.sql - m.speechEnd);
      if (/^[A-Za-z0-9_-]{1,64}$/.test(t.id)) void api.reportTimings(conversationId, t.id, timings).catch(() => undefined);
    }
  }, [conv.turns, conversationId]);

  // --- the mic meter (MicMeter polls it; the answer's level is sampled alongside, for its peak) ----------
  const readMic = useCallback(() => {
    remoteMeterRef.current?.level();
    return micMeterRef.current?.level() ?? 0;
  }, []);

  // --- one WebRTC call per conversation -----------------------------------------------------------------
  const endCall = useCallback(() => {
    callRef.current?.close();
    callRef.current = null;
    micRef.current?.getTracks().forEach((t) => t.stop());
    micRef.current = null;
    micMeterRef.current?.close();
    micMeterRef.current = null;
    setPhase("idle");
  }, []);

  const onRtcEvent = useCallback(
    (ev: RealtimeEvent, direction: "in" | "out") => {
      addLog("rtc", direction, ev);
      if (direction === "out") return;
      if (ev.type === "error") {
        const e = (ev.error ?? {}) as { code?: string; message?: string };
        const code = e.code ?? "";
        if (/expired/.test(code)) setProblem(problemFor("secret_expired"));
        else if (/limit|busy|timeout/.test(code)) setProblem({ ...problemFor(code, e.message), action: "Press Start to begin again." });
        return;
      }
      const action = actionFor(ev, performance.now());
      if (action) dispatch(action);
    },
    [addLog],
  );

  const onCallState = useCallback(
    (s: CallState) => {
      if (s === "connected") setPhase("connected");
      if (s === "failed" || s === "disconnected") {
        setProblem(problemFor("connection_lost"));
        endCall();
      }
    },
    [endCall],
  );

  const startCall = useCallback(async () => {
    if (!conversationId || callRef.current) return;
    setProblem(null);
    setPhase("starting");
    audioContext(); // inside the click, so the browser lets audio play
    try {
      const mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      micRef.current = mic;
      micMeterRef.current = meter(mic);
      const session = await api.realtimeSession({ conversation_id: conversationId, voice });
      addLog("http", "in", { type: "realtime.session", engine: session.engine, expires_at: session.expires_at });
      setEngineNow({ engine: session.engine, reason: session.fallback_reason ?? "" });
      callEngineRef.current = session.engine;
      setPhase("connecting");
      const call = new RealtimeCall({
        mic,
        session,
        voice,
        onEvent: onRtcEvent,
        onState: onCallState,
        onCallStarted: (location) => {
          // Direct cloud connect: datavox joins the call (tools, transcripts, rows) by its id.
          const callId = location?.split("/").pop();
          if (session.attach_url && callId) {
            void api
              .attachCall(session.attach_url, { call_id: callId, secret: session.secret, conversation_id: session.conversation_id })
              .catch((err: unknown) => setProblem(problemFromError(err)));
          }
        },
        onRemoteStream: (remote) => {
          if (audioRef.current) {
            audioRef.current.srcObject = remote;
            void audioRef.current.play().catch(() => undefined);
          }
          remoteMeterRef.current?.close();
          remoteMeterRef.current = meter(remote);
        },
      });
      callRef.current = call;
      await call.start();
    } catch (err) {
      endCall();
      const p = problemFromError(err);
      if (p.code === "unauthorized") setNeedToken(true);
      setProblem(p);
    }
  }, [conversationId, voice, addLog, onRtcEvent, onCallState, endCall]);

  useEffect(() => () => endCall(), [endCall]);
  useEffect(() => {
    restartCallRef.current = () => {
      endCall();
      void startCall();
    };
  }, [endCall, startCall]);
  // Never cut an answer short: move on once the bot has finished speaking.
  useEffect(() => {
    if (restartWanted && !conv.responding) {
      setRestartWanted(false);
      if (callRef.current) restartCallRef.current();
    }
  }, [restartWanted, conv.responding]);

  const stopAnswer = useCallback(() => {
    callRef.current?.interrupt();
    dispatch({ type: "assistant.interrupted" });
    audioRef.current?.pause();
    void audioRef.current?.play().catch(() => undefined);
  }, []);

  // --- typed questions -------------------------------------------------------------------------------------
  const ask = useCallback(
    async (text: string) => {
      const q = text.trim();
      if (!q) return;
      const id = newTurnId();
      dispatch({ type: "text.asked", id, text: q, t: performance.now() });
      setQuestion("");
      try {
        const res = await api.ask({ question: q, history: historyOf(turnsRef.current), conversation_id: conversationId, turn_id: id });
        dispatch({ type: "answer", id, answer: res, source: "text", t: performance.now() });
      } catch (err) {
        const p = problemFromError(err);
        if (p.code === "unauthorized") setNeedToken(true);
        dispatch({ type: "text.failed", id, message: `${p.title} ${p.action}` });
      }
    },
    [conversationId],
  );

  const newConversation = useCallback(async () => {
    endCall();
    try {
      const { conversation_id } = await api.newConversation();
      saveConversation(conversation_id);
      dispatch({ type: "reset" });
      setConversationId(conversation_id);
      setLog([]);
    } catch (err) {
      setProblem(problemFromError(err));
    }
  }, [endCall]);

  // --- the page ------------------------------------------------------------------------------------------
  const inCall = phase !== "idle";
  const statusText =
    phase === "starting" ? "Starting…" : phase === "connecting" ? "Connecting…" : phase === "connected" ? (conv.responding ? "Answering" : "Listening") : "Not connected";
  const voiceOk = config?.realtime_available ?? false;
  const pending = conv.turns.some((t) => t.pending && t.source === "text");

  return (
    <div className="app">
      <header className="top">
        <h1>
          data<span>vox</span>
        </h1>
        <p className="tagline">Ask about your data out loud. Hear the answer, see the SQL and the rows.</p>
        <dl className="facts">
          <div>
            <dt>Engine</dt>
            <dd data-testid="engine">
              {engineNow && engineNow.engine !== config?.engine ? engineLabel(engineNow.engine) : config ? config.engine_label : "…"}
              {engineNow?.reason ? (
                <small className="muted" data-testid="engine-reason">
                  {" "}
                  ({engineNow.reason})
                </small>
              ) : null}
            </dd>
          </div>
          <div>
            <dt>Voice call</dt>
            <dd>
              <span className={`dot ${phase}`} aria-hidden="true" />
              <span data-testid="call-status" role="status">
                {statusText}
              </span>
            </dd>
          </div>
          <div>
            <dt>Updates</dt>
            <dd>
              <span className={`dot ${stream === "open" ? "connected" : "idle"}`} aria-hidden="true" />
              {stream === "open" ? "Live" : stream === "connecting" ? "Connecting…" : "Offline"}
            </dd>
          </div>
        </dl>
      </header>

      <main>
        {needToken && (
          <form
            className="card token"
            onSubmit={(e) => {
              e.preventDefault();
              setToken(tokenDraft);
              setTokenDraft("");
              setNeedToken(false);
              void boot();
            }}
          >
            <h2>This server needs an access token</h2>
            <p className="muted">Paste the token you were given (the server's DATAVOX_API_TOKEN). It is kept in this tab only.</p>
            <label htmlFor="token">Access token</label>
            <div className="row">
              <input id="token" type="password" autoComplete="off" value={tokenDraft} onChange={(e) => setTokenDraft(e.target.value)} required />
              <button type="submit">Continue</button>
            </div>
          </form>
        )}

        <section className="card controls" aria-label="Voice controls">
          <button
            type="button"
            className={`talk ${inCall ? "on" : ""}`}
            aria-pressed={inCall}
            onClick={() => (inCall ? endCall() : void startCall())}
            disabled={!conversationId || (!inCall && !voiceOk) || phase === "starting"}
          >
            <span className="talk-icon" aria-hidden="true">
              {inCall ? "■" : "●"}
            </span>
            {inCall ? "End conversation" : "Start talking"}
          </button>
          <MicMeter read={readMic} active={phase !== "idle"} />
          <button type="button" className="secondary" onClick={stopAnswer} disabled={!inCall || !conv.responding}>
            Stop answer
          </button>
          <label className="voice">
            <span className="label">Voice</span>
            <select value={voice} onChange={(e) => setVoice(e.target.value)} disabled={inCall}>
              {(config?.voices ?? [voice]).map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="secondary" onClick={() => void newConversation()} disabled={booting}>
            New conversation
          </button>
          {config && !voiceOk && (
            <p className="muted small full">Voice is not available on this server ({config.engine_label}); type your questions instead.</p>
          )}
        </section>

        <ServiceNotice service={service} />

        {problem && (
          <div className="notice error" role="alert">
            <strong>{problem.title}</strong> <span className="action">{problem.action}</span>
            <button type="button" className="small" onClick={() => setProblem(null)} aria-label="Dismiss this message">
              Dismiss
            </button>
          </div>
        )}

        <form
          className="card ask"
          onSubmit={(e) => {
            e.preventDefault();
            void ask(question);
          }}
        >
          <label htmlFor="question">Type a question</label>
          <div className="row">
            <input
              id="question"
              type="text"
              value={question}
              onChange={(e) => setQuestion(e.target.value)}
              placeholder="e.g. How many races did Lewis Hamilton win in 2020?"
              autoComplete="off"
              maxLength={2000}
              disabled={!conversationId}
            />
            <button type="submit" disabled={!question.trim() || !conversationId || pending}>
              Ask
            </button>
          </div>
        </form>

        <section className="conversation" aria-label="Conversation">
          <Transcript turns={conv.turns} />
        </section>

        <audio ref={audioRef} autoPlay aria-label="The spoken answer" />
        <EventLog entries={log} onClear={() => setLog([])} />
      </main>

      <footer>
        <p>
          Formula 1 data from <a href="https://github.com/f1db/f1db">F1DB</a> by Marcel Overdijk and contributors, licensed under{" "}
          <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>. Release v2026.3.0; CSV files unmodified. “Formula 1” and
          related marks belong to Formula One Licensing B.V.; F1DB is not an official F1 product.
        </p>
        <p className="muted">datavox {config?.version ?? ""}</p>
      </footer>
    </div>
  );
}

function engineLabel(engine: string): string {
  return ({ local: "Local (offline)", azure: "Azure OpenAI", openai: "OpenAI" } as Record<string, string>)[engine] ?? engine;
}
