// Where the time of a turn went, in milliseconds. Voice: a timeline from the end of speech (as this page
// saw each stage arrive). Typed: question to answer. Both: the server's own stage timings.
import type { Marks } from "../conversation";

export interface Stage {
  key: string;
  label: string;
  ms: number | null;
}

function since(from: number | undefined, to: number | undefined): number | null {
  if (from === undefined || to === undefined) return null;
  return Math.max(0, Math.round(to - from));
}

/** Voice: end of speech → transcript → SQL → first audio, each as time since the end of speech. */
export function voiceStages(marks: Marks): Stage[] {
  return [
    { key: "transcript", label: "Transcript", ms: since(marks.speechEnd, marks.transcript) },
    { key: "sql", label: "SQL", ms: since(marks.speechEnd, marks.sql) },
    { key: "first_audio", label: "First audio", ms: since(marks.speechEnd, marks.firstAudio) },
  ];
}

function fmt(ms: number | null): string {
  return ms === null ? "—" : `${ms.toLocaleString()} ms`;
}

const SERVER_LABELS: Record<string, string> = {
  total: "brain total",
};

/** `sql_ms` → "sql", `tts_first_ms` → "tts first". */
function label(key: string): string {
  const stage = key.replace(/_ms$/, "");
  return SERVER_LABELS[stage] ?? stage.replace(/_/g, " ");
}

export function LatencyStrip({
  source,
  marks,
  serverTimings,
}: {
  source: "voice" | "text";
  marks: Marks;
  serverTimings?: Record<string, number> | undefined;
}) {
  const server = Object.entries(serverTimings ?? {}).filter(([, v]) => typeof v === "number");
  const voice = source === "voice" ? voiceStages(marks) : [];
  const typed = source === "text" ? since(marks.sent, marks.answered) : null;
  if (voice.every((s) => s.ms === null) && typed === null && server.length === 0) return null;
  return (
    <div className="latency" aria-label="Latency of this turn">
      {source === "voice" && voice.some((s) => s.ms !== null) && (
        <ol className="latency-steps">
          <li>
            <span className="stage">End of speech</span> <span className="ms">0 ms</span>
          </li>
          {voice.map((s) => (
            <li key={s.key} data-stage={s.key}>
              <span className="stage">{s.label}</span> <span className="ms">{s.ms === null ? "—" : `+${fmt(s.ms)}`}</span>
            </li>
          ))}
        </ol>
      )}
      {typed !== null && (
        <ol className="latency-steps">
          <li data-stage="answer">
            <span className="stage">Question → answer</span> <span className="ms">{fmt(typed)}</span>
          </li>
        </ol>
      )}
      {server.length > 0 && (
        <p className="latency-server">
          Server:{" "}
          {server.map(([k, v], i) => (
            <span key={k} data-server-stage={k}>
              {i > 0 ? " · " : ""}
              {label(k)} {fmt(Math.round(v * 10) / 10)}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
