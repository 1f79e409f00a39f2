// Admin: the accounts on this server, and creating new ones.

import { useState } from 'react';
import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { ErrorNote } from '../components/dialog.tsx';

export default function AdminScreen() {
  const { toast } = useApp();
  const { data, error, reload } = useAsync(() => client.users.list(), []);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Users</h1>
      <ErrorNote error={error ?? actionError} />
      <ul className="plain-list">
        {data?.map((u) => (
          <li key={u.id} className="row">
            <span className="name">
              <span className="title">{u.username}</span>
              <span className="meta">{u.role}</span>
            </span>
          </li>
        ))}
      </ul>
      <h2>New user</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void client.users.create({ username: username.trim(), password }).then((u) => {
            toast(`User ${u.username} created`);
            setUsername('');
            setPassword('');
            reload();
          }, setActionError);
        }}
      >
        <label>
          Username
          <input
            name="new-username"
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="new-password"
            type="password"
            autoComplete="new-password"
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" className="primary">
          Create user
        </button>
      </form>
    </section>
  );
}
