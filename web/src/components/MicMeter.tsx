import { useEffect, useState } from "react";

// The microphone level, redrawn every 80 ms during a call by this small component alone: held in the
// App's state, the level re-rendered the whole page (transcript, tables, charts) twelve times a second.
export function MicMeter({ read, active }: { read: () => number; active: boolean }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setLevel(read()), 80);
    return () => clearInterval(timer);
  }, [active, read]);
  const shown = active ? level : 0;
  return (
    <div className="meter-wrap">
      <span id="mic-label" className="label">
        Microphone
      </span>
      <div className="meter" role="meter" aria-labelledby="mic-label" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(Math.min(1, shown * 4) * 100)}>
        <div className="meter-fill" style={{ width: `${Math.min(100, shown * 400)}%` }} />
      </div>
    </div>
  );
}
