// Inline SVG charts: horizontal bars for categories, a line for years. No chart library needed.
import { useId } from "react";
import type { ChartSpec } from "../chart";

// Drawn at about the size it is shown, so the labels stay legible; narrower screens scale it down.
const W = 400;
const LINE_W = 520;

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return Math.ceil(max / step) * step;
}

function clip(label: string, max = 20): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

export function Chart({ spec, xName, yName }: { spec: ChartSpec; xName: string; yName: string }) {
  const id = useId();
  const caption = `${yName} by ${xName}`;
  return (
    <figure className="chart">
      {spec.kind === "bar" ? <Bars spec={spec} titleId={id} title={caption} /> : <Line spec={spec} titleId={id} title={caption} />}
      <figcaption>
        {spec.kind === "bar" ? "Bar chart" : "Line chart"}: {caption}
      </figcaption>
    </figure>
  );
}

function Bars({ spec, titleId, title }: { spec: ChartSpec; titleId: string; title: string }) {
  const row = 26;
  const labelW = 150;
  const valueW = 56;
  const h = spec.points.length * row + 8;
  const min = Math.min(0, ...spec.points.map((p) => p.value));
  const max = niceMax(Math.max(...spec.points.map((p) => p.value)));
  const scale = (v: number) => ((v - min) / (max - min || 1)) * (W - labelW - valueW);
  return (
    <svg viewBox={`0 0 ${W} ${h}`} width={W} height={h} role="img" aria-labelledby={titleId} data-kind="bar">
      <title id={titleId}>{title}</title>
      {spec.points.map((p, i) => (
        <g key={p.label} transform={`translate(0 ${i * row + 4})`}>
          <text x={labelW - 8} y={row / 2} dominantBaseline="middle" textAnchor="end" className="chart-label">
            <title>{p.label}</title>
            {clip(p.label)}
          </text>
          <rect x={labelW + scale(Math.min(0, p.value))} y={3} height={row - 8} width={Math.max(1, Math.abs(scale(p.value) - scale(0)))} rx={3} className="chart-bar">
            <title>{`${p.label}: ${fmt(p.value)}`}</title>
          </rect>
          <text x={labelW + scale(Math.max(0, p.value)) + 6} y={row / 2} dominantBaseline="middle" className="chart-value">
            {fmt(p.value)}
          </text>
        </g>
      ))}
    </svg>
  );
}

function Line({ spec, titleId, title }: { spec: ChartSpec; titleId: string; title: string }) {
  const W = LINE_W;
  const h = 260;
  const pad = { l: 56, r: 16, t: 12, b: 32 };
  const values = spec.points.map((p) => p.value);
  const min = Math.min(0, ...values);
  const max = niceMax(Math.max(...values));
  const n = spec.points.length;
  const x = (i: number) => pad.l + (n === 1 ? 0 : (i / (n - 1)) * (W - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - min) / (max - min || 1)) * (h - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * (max - min));
  const every = Math.max(1, Math.ceil(n / 8));
  const path = spec.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  return (
    <svg viewBox={`0 0 ${W} ${h}`} width={W} height={h} role="img" aria-labelledby={titleId} data-kind="line">
      <title id={titleId}>{title}</title>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} className="chart-grid" />
          <text x={pad.l - 6} y={y(t)} textAnchor="end" dominantBaseline="middle" className="chart-axis">
            {fmt(t)}
          </text>
        </g>
      ))}
      {spec.points.map((p, i) =>
        i % every === 0 || i === n - 1 ? (
          <text key={p.label} x={x(i)} y={h - 10} textAnchor="middle" className="chart-axis">
            {p.label}
          </text>
        ) : null,
      )}
      <path d={path} className="chart-line" fill="none" />
      {spec.points.map((p, i) => (
        <circle key={p.label} cx={x(i)} cy={y(p.value)} r={3.5} className="chart-dot">
          <title>{`${p.label}: ${fmt(p.value)}`}</title>
        </circle>
      ))}
    </svg>
  );
}
