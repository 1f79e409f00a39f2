// Create a share link for a file or folder: optional expiry, password and download limit.

import { useState } from 'react';
import type { FileInfo, Share } from '@ferry/client/api/index';
import { client } from '../lib/api.ts';
import { useApp } from '../lib/app-state.ts';
import { Dialog, ErrorNote } from '../components/dialog.tsx';

export function shareLink(token: string): string {
  return `${location.origin}/s/${token}`;
}

export default function ShareDialog({ entry, onClose }: { entry: FileInfo; onClose: () => void }) {
  const { space } = useApp();
  const [days, setDays] = useState('7');
  const [password, setPassword] = useState('');
  const [limit, setLimit] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<(Share & { token: string }) | null>(null);
  const [copied, setCopied] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const s = await client.shares.create({
        path: entry.path,
        space: space?.id,
        expiresAt: days ? Date.now() + Number(days) * 86_400_000 : undefined,
        password: password || undefined,
        maxDownloads: limit ? Number(limit) : undefined,
      });
      setCreated(s);
    } catch (err) {
      setError(err);
    }
  }

  if (created) {
    const link = shareLink(created.token);
    return (
      <Dialog title="Link created" onClose={onClose}>
        <p>Anyone with this link can download {entry.name}. It is shown only once.</p>
        <label>
          Share link
          <input readOnly value={link} data-testid="share-url" onFocus={(e) => e.currentTarget.select()} />
        </label>
        <div className="form-actions">
          <button
            type="button"
            className="primary"
            onClick={() =>
              void navigator.clipboard?.writeText(link).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy link'}
          </button>
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title={`Share ${entry.name}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Expires after
          <select name="expiry" value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="1">1 day</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="">Never</option>
          </select>
        </label>
        <label>
          Password (optional)
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Download limit (optional)
          <input
            name="limit"
            type="number"
            min={1}
            inputMode="numeric"
            value={limit}
            onChange={(e) => setLimit(e.target.value)}
          />
        </label>
        <ErrorNote error={error} />
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Create link
          </button>
        </div>
      </form>
    </Dialog>
  );
}
