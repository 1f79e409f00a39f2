// The trash: restore single entries or empty it.

import { useState } from 'react';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { fileType, formatDate, formatSize } from '../lib/format.ts';
import { FileIcon } from '../components/icons.tsx';
import { Dialog, ErrorNote } from '../components/dialog.tsx';

export default function TrashScreen() {
  const { space, toast } = useApp();
  const { data, error, loading, reload } = useAsync(
    () => client.trash.list({ space: space?.id }),
    [space?.id],
  );
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState(false);
  return (
    <section aria-labelledby="trash-title">
      <div className="page-head">
        <h1 id="trash-title">Trash</h1>
        {data && data.length > 0 && (
          <button type="button" className="danger" onClick={() => setConfirm(true)}>
            Empty trash
          </button>
        )}
      </div>
      <ErrorNote error={error ?? actionError} />
      {loading && !data && <p role="status">Loading…</p>}
      {data?.length === 0 && <p className="empty">The trash is empty.</p>}
      <ul className="plain-list">
        {data?.map((e) => (
          <li key={e.id} className="row" data-name={e.name}>
            <FileIcon type={fileType(e.name, e.kind)} />
            <div className="name">
              <span className="title">{e.name}</span>
              <span className="meta">
                {e.path} · {e.kind === 'file' ? `${formatSize(e.size)} · ` : ''}deleted{' '}
                {formatDate(e.deletedAt)}
              </span>
            </div>
            <button
              type="button"
              aria-label={`Restore ${e.name}`}
              onClick={() =>
                void client.trash.restore(e.id).then(() => {
                  toast(`${e.name} restored`);
                  reload();
                }, setActionError)
              }
            >
              Restore
            </button>
          </li>
        ))}
      </ul>
      {confirm && (
        <Dialog title="Empty the trash?" onClose={() => setConfirm(false)}>
          <p>Everything in the trash is deleted for good. This cannot be undone.</p>
          <div className="form-actions">
            <button type="button" onClick={() => setConfirm(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() =>
                void client.trash.empty({ space: space?.id }).then((n) => {
                  toast(`${n} item${n === 1 ? '' : 's'} deleted for good`);
                  setConfirm(false);
                  reload();
                }, setActionError)
              }
            >
              Empty trash
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
