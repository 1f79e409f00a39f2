// The user's share links: what they point at, limits, downloads, revoke.

import { useState } from 'react';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { formatDate } from '../lib/format.ts';
import { ErrorNote } from '../components/dialog.tsx';

export default function SharesScreen() {
  const { toast } = useApp();
  const { data, error, loading, reload } = useAsync(() => client.shares.list(), []);
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section aria-labelledby="shares-title">
      <h1 id="shares-title">Share links</h1>
      <p className="meta">
        Create a link from a file's actions in Files. The secret link is shown only when it is created.
      </p>
      <ErrorNote error={error ?? actionError} />
      {loading && !data && <p role="status">Loading…</p>}
      {data?.length === 0 && <p className="empty">No share links yet.</p>}
      <ul className="plain-list">
        {data?.map((s) => {
          const expired = s.expiresAt !== null && s.expiresAt < Date.now();
          const used = s.maxDownloads !== null && s.downloads >= s.maxDownloads;
          return (
            <li key={s.id} className="row" data-path={s.path}>
              <div className="name">
                <span className="title">{s.path}</span>
                <span className="meta">
                  {s.downloads} download{s.downloads === 1 ? '' : 's'}
                  {s.maxDownloads !== null ? ` of ${s.maxDownloads}` : ''} ·{' '}
                  {s.expiresAt
                    ? `${expired ? 'expired' : 'expires'} ${formatDate(s.expiresAt)}`
                    : 'no expiry'}
                  {s.hasPassword ? ' · password' : ''}
                  {used ? ' · limit reached' : ''}
                </span>
              </div>
              <button
                type="button"
                className="danger"
                aria-label={`Revoke link to ${s.path}`}
                onClick={() =>
                  void client.shares.revoke(s.id).then(() => {
                    toast('Link revoked');
                    reload();
                  }, setActionError)
                }
              >
                Revoke
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
