// Spaces: switch, create, and manage the members of the current one.

import { useState } from 'react';
import type { SpaceRole } from '@ferry/client/api/index';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { ErrorNote } from '../components/dialog.tsx';

export default function SpacesScreen() {
  const { spaces, space, setSpaceId, reloadSpaces, toast } = useApp();
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <section aria-labelledby="spaces-title">
      <h1 id="spaces-title">Spaces</h1>
      <ul className="plain-list">
        {spaces.map((s) => (
          <li key={s.id} className="row">
            <div className="name">
              <span className="title">
                {s.name} {s.isDefault && <span className="badge">default</span>}
              </span>
              <span className="meta">your role: {s.role}</span>
            </div>
            {s.id === space?.id ? (
              <span className="badge">current</span>
            ) : (
              <button type="button" onClick={() => setSpaceId(s.id)}>
                Open
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void client.spaces.create(name.trim()).then(() => {
            toast(`Space ${name} created`);
            setName('');
            reloadSpaces();
          }, setError);
        }}
      >
        <label>
          New space
          <input name="space" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit" className="primary">
          Create
        </button>
      </form>
      <ErrorNote error={error} />
      {space && <Members spaceId={space.id} canManage={space.role === 'owner'} />}
    </section>
  );
}

function Members({ spaceId, canManage }: { spaceId: string; canManage: boolean }) {
  const { data, error, reload } = useAsync(() => client.spaces.members(spaceId), [spaceId]);
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<SpaceRole>('editor');
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <>
      <h2>Members</h2>
      <ErrorNote error={error ?? actionError} />
      <ul className="plain-list">
        {data?.map((m) => (
          <li key={m.userId} className="row">
            <span className="name">
              <span className="title">{m.username}</span>
              <span className="meta">{m.role}</span>
            </span>
            {canManage && m.role !== 'owner' && (
              <button
                type="button"
                className="danger"
                aria-label={`Remove ${m.username}`}
                onClick={() =>
                  void client.spaces.removeMember(spaceId, m.userId).then(reload, setActionError)
                }
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {canManage && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void client.spaces.setMember(spaceId, username.trim(), role).then(() => {
              setUsername('');
              reload();
            }, setActionError);
          }}
        >
          <label>
            Username
            <input name="member" value={username} onChange={(e) => setUsername(e.target.value)} required />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as SpaceRole)}>
              <option value="editor">editor</option>
              <option value="viewer">viewer</option>
              <option value="owner">owner</option>
            </select>
          </label>
          <button type="submit">Add or change</button>
        </form>
      )}
    </>
  );
}
