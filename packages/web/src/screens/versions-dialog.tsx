// Version history of a file, with restore of any older version.

import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { formatDate, formatSize } from '../lib/format.ts';
import { Dialog, ErrorNote, type EntryDialogProps } from '../components/dialog.tsx';
import { useState } from 'react';

export default function VersionsDialog({ entry, onClose, onDone }: EntryDialogProps) {
  const { toast } = useApp();
  const { data, error, loading, reload } = useAsync(() => client.files.versions(entry.id), [entry.id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const versions = data ? [...data].sort((a, b) => b.version - a.version) : [];
  const current = versions[0]?.version;
  return (
    <Dialog title={`Versions of ${entry.name}`} onClose={onClose}>
      {loading && !data && <p role="status">Loading…</p>}
      <ErrorNote error={error ?? actionError} />
      <ol className="versions">
        {versions.map((v) => (
          <li key={v.version}>
            <div>
              <strong>v{v.version}</strong> {v.deleted ? '(deleted)' : formatSize(v.size)}
              <div className="meta">
                {formatDate(v.createdAt)}
                {v.path !== entry.path ? ` · ${v.path}` : ''}
              </div>
            </div>
            {v.version === current ? (
              <span className="badge">current</span>
            ) : (
              !v.deleted && (
                <button
                  type="button"
                  aria-label={`Restore version ${v.version}`}
                  onClick={() =>
                    void client.files.restoreVersion(entry.id, v.version).then(() => {
                      toast(`Restored version ${v.version} of ${entry.name}`);
                      reload();
                      onDone();
                    }, setActionError)
                  }
                >
                  Restore
                </button>
              )
            )}
          </li>
        ))}
      </ol>
    </Dialog>
  );
}
