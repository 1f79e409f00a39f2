// Conflict copies: files kept when two devices changed the same file. Open their folder to
// compare, rename the one to keep over the original, delete the other.

import { client } from '../lib/api.ts';
import { useApp, useAsync } from '../lib/app-state.ts';
import { fileType, formatDate, formatSize } from '../lib/format.ts';
import { folderRoute, linkClick } from '../lib/router.ts';
import { FileIcon } from '../components/icons.tsx';
import { ErrorNote } from '../components/dialog.tsx';

export default function ConflictsScreen() {
  const { space } = useApp();
  const { data, error, loading } = useAsync(() => client.files.conflicts({ space: space?.id }), [space?.id]);
  return (
    <section aria-labelledby="conflicts-title">
      <h1 id="conflicts-title">Conflicts</h1>
      <p className="meta">
        When two devices change the same file, both versions are kept: the other one is saved as a conflict
        copy next to it.
      </p>
      <ErrorNote error={error} />
      {loading && !data && <p role="status">Loading…</p>}
      {data?.length === 0 && <p className="empty">No conflicts. Everything is in sync.</p>}
      <ul className="plain-list">
        {data?.map((e) => {
          const parent = e.path.slice(0, e.path.lastIndexOf('/')) || '/';
          return (
            <li key={e.id} className="row">
              <FileIcon type={fileType(e.name, e.kind)} />
              <div className="name">
                <span className="title">{e.name}</span>
                <span className="meta">
                  {formatSize(e.size)} · {formatDate(e.mtime)}
                </span>
              </div>
              <a href={folderRoute(parent)} onClick={linkClick}>
                Open folder
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
