// Checkpoints of the current space: list, create, restore. Hidden when the server has no such API.

import { useState } from 'react';
import { isFerryApiError, type Checkpoint } from '@ferry/client/api/index';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { formatDate } from '../lib/format.ts';
import { Dialog, ErrorNote } from '../components/dialog.tsx';

export default function CheckpointsScreen() {
  const { space, toast } = useApp();
  const { data, error, loading, reload } = useAsync(
    () =>
      space
        ? client.spaces
            .checkpoints(space.id)
            .catch((e: unknown) => (isFerryApiError(e) && e.status === 404 ? null : Promise.reject(e)))
        : Promise.resolve(undefined),
    [space?.id],
  );
  const [name, setName] = useState('');
  const [restore, setRestore] = useState<Checkpoint | null>(null);
  const [folder, setFolder] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  if (data === null)
    return (
      <section>
        <h1>Checkpoints</h1>
        <p className="empty">This server does not support checkpoints yet.</p>
      </section>
    );
  const canWrite = space?.role === 'owner' || space?.role === 'editor';
  return (
    <section aria-labelledby="cp-title">
      <h1 id="cp-title">Checkpoints</h1>
      <p className="meta">
        A checkpoint marks the whole space at a moment; restore brings the space (or one folder) back to it.
      </p>
      <ErrorNote error={error ?? actionError} />
      {loading && !data && <p role="status">Loading…</p>}
      {canWrite && space && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void client.spaces.createCheckpoint(space.id, name.trim()).then(() => {
              setName('');
              toast('Checkpoint created');
              reload();
            }, setActionError);
          }}
        >
          <label>
            Checkpoint name
            <input name="checkpoint" value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <button type="submit" className="primary">
            Create
          </button>
        </form>
      )}
      {data?.length === 0 && <p className="empty">No checkpoints yet.</p>}
      <ul className="plain-list">
        {data?.map((c) => (
          <li key={c.id} className="row">
            <span className="name">
              <span className="title">{c.name}</span>
              <span className="meta">
                {formatDate(c.createdAt)} · seq {c.seq}
              </span>
            </span>
            {canWrite && (
              <button type="button" onClick={() => setRestore(c)}>
                Restore
              </button>
            )}
          </li>
        ))}
      </ul>
      {restore && space && (
        <Dialog title={`Restore to “${restore.name}”?`} onClose={() => setRestore(null)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void client.spaces
                .restoreCheckpoint(space.id, restore.id, folder ? { path: folder } : {})
                .then(() => {
                  toast(`Restored to ${restore.name}`);
                  setRestore(null);
                }, setActionError);
            }}
          >
            <p>Files changed since then get their old content back as a new version; nothing is lost.</p>
            <label>
              Only this folder (optional)
              <input
                name="folder"
                placeholder="/photos"
                value={folder}
                onChange={(e) => setFolder(e.target.value)}
              />
            </label>
            <div className="form-actions">
              <button type="button" onClick={() => setRestore(null)}>
                Cancel
              </button>
              <button type="submit" className="primary">
                Restore
              </button>
            </div>
          </form>
        </Dialog>
      )}
    </section>
  );
}
