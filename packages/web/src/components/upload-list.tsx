// The upload queue as a list of progress bars, with retry/remove for items that failed for good.

import { useSyncExternalStore } from 'react';
import { getQueueView, removeFromQueue, retryItem, subscribeQueue } from '../lib/upload-queue.ts';
import { formatSize } from '../lib/format.ts';

export function UploadList({ compact = false }: { compact?: boolean }) {
  const q = useSyncExternalStore(subscribeQueue, getQueueView);
  if (compact && q.items.length === 0) return null;
  const shown = compact ? q.items.slice(0, 5) : q.items;
  return (
    <section className="uploads" aria-label="Uploads">
      <p className="uploads-head" role="status">
        {q.items.length === 0
          ? 'No uploads waiting.'
          : `${q.pending} upload${q.pending === 1 ? '' : 's'} pending${q.online ? '' : ' — offline, they will start when the connection returns'}`}
      </p>
      <ul>
        {shown.map((i) => {
          const pct = i.size ? Math.round((i.loaded / i.size) * 100) : i.active ? 50 : 0;
          return (
            <li key={i.id} className={i.error ? 'failed' : ''}>
              <span className="up-name" title={i.path}>
                {i.path}
              </span>
              <span className="up-size">
                {i.error
                  ? 'failed'
                  : i.hashing !== undefined
                    ? `checking ${Math.round((i.hashing / (i.size || 1)) * 100)}%`
                    : i.active
                      ? `${pct}%`
                      : formatSize(i.size)}
              </span>
              <progress max={100} value={pct} aria-label={`Upload of ${i.path}`} />
              {i.error && (
                <span className="up-error">
                  {i.error}{' '}
                  <button type="button" onClick={() => retryItem(i.id)}>
                    Retry
                  </button>{' '}
                  <button type="button" onClick={() => void removeFromQueue(i.id)}>
                    Remove
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {compact && q.items.length > shown.length && (
        <p className="meta">…and {q.items.length - shown.length} more</p>
      )}
    </section>
  );
}
