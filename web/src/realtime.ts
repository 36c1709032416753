// One WebRTC call to a realtime engine (local, Azure or OpenAI: same GA protocol, same code).
// See ../shared/docs/realtime-protocol.md §3: the mic track is added and the data channel created before
// the offer; the offer is POSTed with the ephemeral secret; model audio arrives as one remote track.
import { ApiError, retryAfterSeconds } from "./errors";
import type { RealtimeEvent, RealtimeSession } from "./types";

export type CallState = "connecting" | "connected" | "disconnected" | "failed" | "closed";

export interface CallOptions {
  mic: MediaStream;
  session: RealtimeSession;
  voice: string;
  onEvent: (event: RealtimeEvent, direction: "in" | "out") => void;
  onRemoteStream: (stream: MediaStream) => void;
  onState: (state: CallState) => void;
  /** The SDP answer's `Location` (the call id), for cloud sessions that datavox joins by id. */
  onCallStarted?: (location: string | null) => void;
}

// Without trickle ICE the offer must carry its candidates; local gathering takes milliseconds, but a
// machine with unreachable STUN-less interfaces should not hold the call up for long.
const ICE_GATHER_TIMEOUT_MS = 2000;

function iceGatheringDone(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check(): void {
      if (pc.iceGatheringState === "complete") done();
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

async function sdpError(res: Response): Promise<ApiError> {
  let message = "";
  let code = "";
  try {
    const data = (await res.json()) as { error?: { message?: string; code?: string }; detail?: unknown };
    message = data.error?.message ?? "";
    code = data.error?.code ?? "";
  } catch {
    /* not JSON */
  }
  if (res.status === 401 || res.status === 403 || /expired/i.test(code + message)) {
    return new ApiError(res.status, "secret_expired", "");
  }
  if (res.status === 429 || /limit|busy/i.test(code)) {
    return new ApiError(res.status, "engine_busy", "", retryAfterSeconds(res.headers.get("Retry-After")));
  }
  return new ApiError(res.status, "engine_unavailable", message);
}

export class RealtimeCall {
  readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | null = null;
  private responding = false;

  constructor(private readonly opts: CallOptions) {
    this.pc = new RTCPeerConnection();
  }

  async start(): Promise<void> {
    const { pc, opts } = this;
    pc.ontrack = (e) => opts.onRemoteStream(e.streams[0] ?? new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState;
      if (s === "connected" || s === "disconnected" || s === "failed" || s === "closed") opts.onState(s);
    };
    for (const track of opts.mic.getAudioTracks()) pc.addTrack(track, opts.mic);
    const channel = pc.createDataChannel("oai-events");
    this.channel = channel;
    channel.onopen = () => {
      this.send({ type: "session.update", session: { type: "realtime", audio: { output: { voice: opts.voice } } } });
    };
    channel.onmessage = (msg) => {
      let event: RealtimeEvent;
      try {
        event = JSON.parse(String(msg.data)) as RealtimeEvent;
      } catch {
        return;
      }
      if (event.type === "response.created") this.responding = true;
      if (event.type === "response.done") this.responding = false;
      opts.onEvent(event, "in");
    };
    opts.onState("connecting");
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc);
    const res = await fetch(opts.session.calls_url, {
      method: "POST",
      body: pc.localDescription?.sdp ?? "",
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${opts.session.secret}` },
    });
    if (!res.ok) throw await sdpError(res);
    opts.onCallStarted?.(res.headers.get("Location"));
    await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  }

  send(event: RealtimeEvent): void {
    if (this.channel?.readyState !== "open") return;
    this.channel.send(JSON.stringify(event));
    this.opts.onEvent(event, "out");
  }

  /** Stop the answer now (agents-js `interrupt()`): cancel the response if one runs, always clear audio. */
  interrupt(): void {
    if (this.responding) this.send({ type: "response.cancel" });
    this.send({ type: "output_audio_buffer.clear" });
  }

  close(): void {
    this.channel?.close();
    for (const sender of this.pc.getSenders()) sender.track?.stop();
    this.pc.close();
    this.opts.onState("closed");
  }
}
