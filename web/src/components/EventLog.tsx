// The protocol events of this page, newest last: realtime data channel (in/out) and the app event stream.
export interface LogEntry {
  n: number;
  t: number;
  channel: "rtc" | "app" | "http";
  direction: "in" | "out";
  type: string;
  summary: string;
}

export function EventLog({ entries, onClear }: { entries: LogEntry[]; onClear: () => void }) {
  return (
    <details className="event-log">
      <summary>
        Protocol events <span className="count">({entries.length})</span>
      </summary>
      <div className="log-tools">
        <button type="button" className="small" onClick={onClear}>
          Clear
        </button>
      </div>
      <ol className="log-lines" aria-label="Protocol events">
        {entries.map((e) => (
          <li key={e.n} className={`log-${e.direction}`}>
            <time>{new Date(e.t).toISOString().slice(11, 23)}</time>
            <span className="chan">{e.channel}</span>
            <span className="dir" aria-label={e.direction === "in" ? "received" : "sent"}>
              {e.direction === "in" ? "↓" : "↑"}
            </span>
            <span className="type">{e.type}</span>
            <span className="summary">{e.summary}</span>
          </li>
        ))}
      </ol>
    </details>
  );
}

// Long fields (audio, SDP) are cut; secrets never reach the log because the page never logs the session.
export function summarise(event: Record<string, unknown>): string {
  const { type: _type, event_id: _id, ...rest } = event;
  const text = JSON.stringify(rest, (k, v: unknown) => (k === "delta" && typeof v === "string" && v.length > 80 ? `${v.slice(0, 80)}…` : v));
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
