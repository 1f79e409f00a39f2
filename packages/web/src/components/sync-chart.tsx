// A hand-drawn SVG chart of a device's recent sync runs: bars for files synced (red when the
// run failed), red ticks for errors, and a line for transfer speed on its own scale.

import type { SyncEvent } from '@ferry/client/api/index';
import { formatDate, formatMbps } from '../lib/format.ts';

const W = 320;
const H = 120;
const PAD = { l: 28, r: 8, t: 8, b: 18 };

export function SyncChart({ events }: { events: SyncEvent[] }) {
  const runs = [...events].sort((a, b) => a.timestamp - b.timestamp);
  if (runs.length === 0) return <p className="meta">No sync runs reported yet.</p>;
  const maxFiles = Math.max(1, ...runs.map((e) => Math.max(e.filesSynced, e.errors)));
  const maxSpeed = Math.max(1, ...runs.map((e) => e.speed ?? 0));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const step = iw / runs.length;
  const bw = Math.max(2, step * 0.7);
  const y = (v: number) => PAD.t + ih - (v / maxFiles) * ih;
  const ys = (v: number) => PAD.t + ih - (v / maxSpeed) * ih;
  // The speed line skips runs that reported no speed.
  let pen = 'M';
  const line = runs
    .map((e, i) => {
      if (e.speed === null) {
        pen = 'M';
        return '';
      }
      const seg = `${pen}${(PAD.l + i * step + step / 2).toFixed(1)},${ys(e.speed).toFixed(1)}`;
      pen = 'L';
      return seg;
    })
    .join('');
  const failed = runs.filter((e) => e.status !== 'ok').length;
  const summary = `${runs.length} sync runs from ${formatDate(runs[0].timestamp)} to ${formatDate(runs[runs.length - 1].timestamp)}: ${failed} failed, up to ${maxFiles} files per run, top speed ${formatMbps(maxSpeed)}.`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1={PAD.l} x2={W - PAD.r} y1={PAD.t + ih} y2={PAD.t + ih} className="axis" />
        <text x={PAD.l - 4} y={PAD.t + 8} textAnchor="end" className="tick">
          {maxFiles}
        </text>
        <text x={PAD.l - 4} y={PAD.t + ih} textAnchor="end" className="tick">
          0
        </text>
        {runs.map((e, i) => {
          const x = PAD.l + i * step + (step - bw) / 2;
          return (
            <g key={e.id}>
              <rect
                x={x}
                y={y(e.filesSynced)}
                width={bw}
                height={Math.max(1, PAD.t + ih - y(e.filesSynced))}
                className={e.status === 'ok' ? 'bar' : 'bar failed'}
              >
                <title>{`${formatDate(e.timestamp)}: ${e.filesSynced} files, ${e.errors} errors${e.speed !== null ? `, ${formatMbps(e.speed)}` : ''}${e.errorMessage ? ` — ${e.errorMessage}` : ''}`}</title>
              </rect>
              {e.errors > 0 && <rect x={x} y={y(e.errors)} width={bw} height={2} className="err" />}
            </g>
          );
        })}
        <path d={line} className="speed" fill="none" />
        <text x={PAD.l} y={H - 4} className="tick">
          {formatDate(runs[0].timestamp)}
        </text>
        <text x={W - PAD.r} y={H - 4} textAnchor="end" className="tick">
          {formatDate(runs[runs.length - 1].timestamp)}
        </text>
      </svg>
      <figcaption className="legend">
        <span className="k files">files</span> <span className="k failed">failed run</span>{' '}
        <span className="k errors">errors</span>{' '}
        <span className="k speed">speed (max {formatMbps(maxSpeed)})</span>
      </figcaption>
    </figure>
  );
}
