// The conversation: the user's words (partials while speaking, then final), the assistant's answer as it
// streams beside its audio, and the data behind each answer.
import { chooseChart } from "../chart";
import type { Turn } from "../conversation";
import { problemFor } from "../errors";
import { Chart } from "./Chart";
import { LatencyStrip } from "./LatencyStrip";
import { ResultTable } from "./ResultTable";
import { SqlBlock } from "./SqlBlock";

export function TurnView({ turn }: { turn: Turn }) {
  const a = turn.answer;
  const columns = a?.columns ?? [];
  const rows = a?.rows ?? [];
  const spec = a && columns.length > 0 ? chooseChart(columns, rows, a.chart ?? null) : null;
  const rejected = a?.error ? problemFor("query_rejected") : null;
  return (
    <li className="turn" data-turn-id={turn.id}>
      {(turn.userText || !turn.userFinal) && (
        <div className={`bubble user${turn.userFinal ? "" : " partial"}`}>
          <span className="who">You{turn.source === "voice" ? " said" : " typed"}</span>
          <p data-testid="user-text">
            {turn.userText || <span className="muted">Listening…</span>}
            {!turn.userFinal && turn.userText && <span aria-hidden="true"> …</span>}
          </p>
        </div>
      )}
      {(turn.assistantText || turn.pending || a) && (
        <div className={`bubble assistant${turn.interrupted ? " interrupted" : ""}`}>
          <span className="who">datavox</span>
          <p data-testid="assistant-text">
            {turn.assistantText || (turn.pending ? <span className="muted">Thinking…</span> : null)}
            {turn.interrupted && <span className="tag">interrupted</span>}
          </p>
          {a?.fallback_reason && <p className="muted small">Answered offline: {a.fallback_reason}</p>}
        </div>
      )}
      {a && (a.sql || rejected) && (
        <section className="data" aria-label="The data behind this answer">
          {rejected && (
            <div className="notice warn" role="status">
              <strong>{rejected.title}</strong> {a.error} <span className="action">{rejected.action}</span>
            </div>
          )}
          {a.sql && <SqlBlock sql={a.sql} />}
          {a.sql && !a.error && (
            <ResultTable columns={columns} rows={rows} rowCount={a.row_count ?? rows.length} truncated={a.truncated ?? false} />
          )}
          {spec && <Chart spec={spec} xName={columns[spec.x] ?? ""} yName={columns[spec.y] ?? ""} />}
        </section>
      )}
      <LatencyStrip source={turn.source} marks={turn.marks} serverTimings={{ ...(a?.timings_ms ?? {}), ...turn.timings }} />
    </li>
  );
}

export function Transcript({ turns }: { turns: Turn[] }) {
  if (turns.length === 0) {
    return (
      <p className="empty muted">
        Press <strong>Start talking</strong> and ask a question, or type one. For example: “Who won the 2021 drivers'
        championship?” or “Which constructors have the most wins?”
      </p>
    );
  }
  return (
    <ol className="turns" aria-label="Conversation" aria-live="polite" aria-relevant="additions text">
      {turns.map((t) => (
        <TurnView key={t.id} turn={t} />
      ))}
    </ol>
  );
}
