// Audio levels from an AnalyserNode: the mic meter, and proof that the answer's audio arrives.
let context: AudioContext | null = null;

export function audioContext(): AudioContext {
  context ??= new AudioContext();
  if (context.state === "suspended") void context.resume();
  return context;
}

export interface LevelMeter {
  /** RMS of the latest window, 0..1. */
  level(): number;
  /** The highest level seen so far. */
  peak(): number;
  close(): void;
}

export function meter(stream: MediaStream): LevelMeter {
  const ctx = audioContext();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let peak = 0;
  return {
    level() {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      peak = Math.max(peak, rms);
      return rms;
    },
    peak: () => peak,
    close() {
      source.disconnect();
      analyser.disconnect();
    },
  };
}
