// The app event stream (`/api/events`): transcripts, answers with SQL and rows, timings. Reconnects
// with backoff; the token goes in the first message because browsers cannot set WebSocket headers.
import type { AppEvent } from "./types";

export type StreamState = "connecting" | "open" | "closed";

export interface EventStreamOptions {
  conversationId: string;
  token: string;
  onEvent: (event: AppEvent) => void;
  onState: (state: StreamState, closeCode?: number) => void;
}

export class EventStream {
  private ws: WebSocket | null = null;
  private stopped = false;
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: EventStreamOptions) {
    this.open();
  }

  private open(): void {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/events`);
    this.ws = ws;
    this.opts.onState("connecting");
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", conversation_id: this.opts.conversationId, token: this.opts.token }));
    };
    ws.onmessage = (msg) => {
      let event: AppEvent;
      try {
        event = JSON.parse(String(msg.data)) as AppEvent;
      } catch {
        return;
      }
      if (event.type === "ready") {
        this.retry = 0;
        this.opts.onState("open");
        return;
      }
      this.opts.onEvent(event);
    };
    ws.onclose = (ev) => {
      this.opts.onState("closed", ev.code);
      // 4401: wrong token, 4403: another site; retrying would not help.
      if (this.stopped || ev.code === 4401 || ev.code === 4403) return;
      const delay = Math.min(10_000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }
}
