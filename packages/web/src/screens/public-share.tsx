// The public page of a share link (/s/TOKEN): no account needed; asks for the password if set.

import { useEffect, useState } from 'react';
import { isFerryApiError, type PublicShare } from '@ferry/client/api/index';
import { client } from '../lib/api.ts';
import { fileType, formatDate, formatSize } from '../lib/format.ts';
import { FileIcon } from '../components/icons.tsx';

export default function PublicShareScreen({ token }: { token: string }) {
  const [share, setShare] = useState<PublicShare | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [needPassword, setNeedPassword] = useState(false);
  const [password, setPassword] = useState('');
  const [tried, setTried] = useState<string | undefined>(undefined);

  useEffect(() => {
    let live = true;
    client.shares.getPublic(token, tried).then(
      (s) => {
        if (!live) return;
        setShare(s);
        setNeedPassword(false);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        if (isFerryApiError(e) && (e.code === 'PASSWORD_REQUIRED' || e.code === 'WRONG_PASSWORD')) {
          setNeedPassword(true);
          setError(tried ? e : null);
        } else setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [token, tried]);

  let body;
  if (share) {
    body = (
      <>
        <div className="share-file">
          <FileIcon type={fileType(share.name, share.kind)} size={56} />
          <div>
            <h1>{share.name}</h1>
            <p className="meta">
              {share.kind === 'file' ? formatSize(share.size) : 'Folder'} · {formatDate(share.mtime)}
            </p>
          </div>
        </div>
        {share.kind === 'file' && (
          <a
            className="button primary"
            href={client.shares.publicDownloadUrl(token, { password: tried })}
            download={share.name}
          >
            Download
          </a>
        )}
        {share.entries && (
          <ul className="plain-list">
            {share.entries.map((e) => (
              <li key={e.path} className="row">
                <FileIcon type={fileType(e.path, e.kind)} />
                <span className="name">
                  <span className="title">{e.path}</span>
                  <span className="meta">{e.kind === 'file' ? formatSize(e.size) : 'Folder'}</span>
                </span>
                {e.kind === 'file' && (
                  <a
                    href={client.shares.publicDownloadUrl(token, { password: tried, path: e.path })}
                    download
                  >
                    Download
                  </a>
                )}
              </li>
            ))}
          </ul>
        )}
        <p className="meta">
          {share.expiresAt ? `Link expires ${formatDate(share.expiresAt)}. ` : ''}
          {share.downloadsLeft !== null
            ? `${share.downloadsLeft} download${share.downloadsLeft === 1 ? '' : 's'} left.`
            : ''}
        </p>
      </>
    );
  } else if (needPassword) {
    body = (
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTried(password);
        }}
      >
        <h1>This link is protected</h1>
        <label>
          Password
          <input
            type="password"
            name="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoFocus
            required
          />
        </label>
        {error ? (
          <p className="error" role="alert">
            Wrong password.
          </p>
        ) : null}
        <button type="submit" className="primary">
          Open
        </button>
      </form>
    );
  } else if (error) {
    body = (
      <>
        <h1>Link unavailable</h1>
        <p role="alert">
          {isFerryApiError(error) && error.status === 404
            ? 'This link does not exist, has expired or was revoked.'
            : (error as Error).message}
        </p>
      </>
    );
  } else body = <p role="status">Loading…</p>;

  return (
    <main className="login">
      <div className="card public-share">
        <p className="brand">Ferry</p>
        {body}
      </div>
    </main>
  );
}
