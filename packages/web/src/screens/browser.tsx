// The file browser: breadcrumbs, search, sort, a virtualized listing, upload by picker or drag
// and drop (files and whole folders, through the offline queue), and per-entry actions.

import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import type { FileInfo, ListPage } from '@ferry/client/api/index';
import { joinPath, parentPath } from '@ferry/core/paths';
import { client } from '../lib/api.ts';
import { FIRST_SCREEN_EVENT, useApp } from '../lib/app-state.ts';
import { fileType, formatDate, formatSize } from '../lib/format.ts';
import { loadListing, saveListing } from '../lib/listing-cache.ts';
import { takePrefetch } from '../lib/prefetch-listing.ts';
import { folderRoute, linkClick, navigate } from '../lib/router.ts';
import { enqueue, onUploaded } from '../lib/upload-queue.ts';
import { FileIcon } from '../components/icons.tsx';
import { VirtualList } from '../components/virtual-list.tsx';
import { Dialog, ErrorNote, type EntryDialogProps } from '../components/dialog.tsx';
import { UploadList } from '../components/upload-list.tsx';
import { filesFromDrop, type PickedFile } from '../lib/drop.ts';

const VersionsDialog = lazy(() => import('./versions-dialog.tsx'));
const ShareDialog = lazy(() => import('./share-dialog.tsx'));

type SortKey = 'name' | 'size' | 'mtime';
type Modal =
  | { kind: 'actions' | 'rename' | 'versions' | 'share' | 'delete'; entry: FileInfo }
  | { kind: 'mkdir' }
  | null;

const ROW = 60;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function BrowserScreen({ folder }: { folder: string }) {
  const { space, toast } = useApp();
  const spaceId = space?.id;
  const [entries, setEntries] = useState<FileInfo[] | null>(null);
  const [stale, setStale] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [tick, setTick] = useState(0);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const [modal, setModal] = useState<Modal>(null);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setQuery('');
  }, [folder]);

  useEffect(() => {
    if (!spaceId) return;
    let live = true;
    // A big folder on a blank screen shows each page as it arrives.
    let partial: FileInfo[] | null = null;
    setError(null);
    // Read once: shown while the server answers, and what stays on screen if it cannot.
    const cachedListing = loadListing(spaceId, folder);
    void cachedListing.then((c) => {
      if (live && c) setEntries((cur) => (cur === null || cur === partial ? c.entries : cur));
    });
    (async () => {
      const all: FileInfo[] = [];
      let cursor: string | null = null;
      // On the page the app opened with, the pages already on their way (src/prefetch.ts).
      let early = takePrefetch(spaceId, folder);
      for (let i = 0; ; i++) {
        let page: ListPage | null = null;
        if (early) page = await early(i).catch(() => (early = null));
        page ??= await client.files.list(folder, { space: spaceId, limit: 5000, cursor });
        all.push(...page.entries);
        cursor = page.cursor;
        if (cursor && live) {
          // Replaces nothing but a blank screen or the previous page's snapshot.
          const prev = partial;
          partial = all.slice();
          const next = partial;
          setEntries((cur) => (cur === null || cur === prev ? next : cur));
          setLoadingMore(true);
        }
        if (!cursor) return all;
      }
    })().then(
      (all) => {
        if (!live) return;
        setEntries(all);
        setLoadingMore(false);
        setStale(null);
        void saveListing(spaceId, folder, all);
      },
      async (e: unknown) => {
        if (!live) return;
        setLoadingMore(false);
        const cached = await cachedListing;
        if (cached) {
          setEntries(cached.entries);
          setStale(cached.savedAt);
        } else {
          setEntries([]);
          setError(e);
        }
      },
    );
    return () => {
      live = false;
    };
  }, [spaceId, folder, tick]);

  useEffect(() => setEntries(null), [spaceId, folder]);

  // Effects run after the paint: the listing is on screen, background work may start.
  const shownOnce = entries !== null;
  useEffect(() => {
    if (shownOnce) window.dispatchEvent(new Event(FIRST_SCREEN_EVENT));
  }, [shownOnce]);

  useEffect(
    () =>
      onUploaded((item) => {
        const parent = parentPath(item.path);
        if (parent === folder || parent.startsWith(folder === '/' ? '/' : folder + '/'))
          setTick((t) => t + 1);
      }),
    [folder],
  );

  // "Whole space": the server searches every folder by name (debounced while typing).
  const [everywhere, setEverywhere] = useState(false);
  const [found, setFound] = useState<FileInfo[] | null>(null);
  const wide = everywhere && query.trim() !== '';
  useEffect(() => {
    setFound(null);
    if (!wide) return;
    const ac = new AbortController();
    const timer = setTimeout(() => {
      client.files
        .search(query.trim(), { space: spaceId, signal: ac.signal })
        .then(setFound, (e: unknown) => {
          if (!ac.signal.aborted) setError(e);
        });
    }, 250);
    return () => {
      clearTimeout(timer);
      ac.abort();
    };
  }, [wide, query, spaceId]);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = wide
      ? (found ?? []).slice()
      : (entries ?? []).filter((e) => !q || e.name.toLowerCase().includes(q));
    const dir = sort.desc ? -1 : 1;
    return list.sort((a, b) => {
      if (a.kind !== b.kind) return a.kind === 'dir' ? -1 : 1;
      const d =
        sort.key === 'name'
          ? collator.compare(a.name, b.name)
          : sort.key === 'size'
            ? a.size - b.size
            : a.mtime - b.mtime;
      return d * dir || collator.compare(a.name, b.name);
    });
  }, [entries, query, sort, wide, found]);

  function queueFiles(files: PickedFile[]) {
    if (!files.length) return;
    void enqueue(
      files.map((f) => ({ file: f.file, path: joinPath(folder, f.relativePath) })),
      spaceId,
    );
    toast(`${files.length} file${files.length > 1 ? 's' : ''} queued for upload`);
  }

  function onPick(input: HTMLInputElement | null) {
    if (!input?.files) return;
    queueFiles(
      Array.from(input.files, (file) => ({
        file,
        relativePath: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
      })),
    );
    input.value = '';
  }

  const reload = () => setTick((t) => t + 1);
  const crumbs = folder === '/' ? [] : folder.slice(1).split('/');

  return (
    <section
      className={`browser${dragging ? ' dragging' : ''}`}
      aria-labelledby="folder-title"
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        void filesFromDrop(e.dataTransfer).then(queueFiles);
      }}
    >
      <nav aria-label="Breadcrumbs" className="crumbs">
        <ol>
          <li>
            <a href={folderRoute('/')} onClick={linkClick} aria-current={folder === '/' ? 'page' : undefined}>
              {space?.name ?? 'Files'}
            </a>
          </li>
          {crumbs.map((name, i) => {
            const p = '/' + crumbs.slice(0, i + 1).join('/');
            return (
              <li key={p}>
                <a href={folderRoute(p)} onClick={linkClick} aria-current={p === folder ? 'page' : undefined}>
                  {name}
                </a>
              </li>
            );
          })}
        </ol>
      </nav>
      <h1 id="folder-title" className="sr-only">
        {folder === '/' ? 'All files' : crumbs[crumbs.length - 1]}
      </h1>

      <div className="toolbar">
        <label className="search">
          <span className="sr-only">Search by name</span>
          <input
            type="search"
            placeholder="Search this folder"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        <label>
          <span className="sr-only">Sort by</span>
          <select
            value={`${sort.key}:${sort.desc ? 'desc' : 'asc'}`}
            onChange={(e) => {
              const [key, dir] = e.target.value.split(':');
              setSort({ key: key as SortKey, desc: dir === 'desc' });
            }}
          >
            <option value="name:asc">Name A–Z</option>
            <option value="name:desc">Name Z–A</option>
            <option value="mtime:desc">Newest first</option>
            <option value="mtime:asc">Oldest first</option>
            <option value="size:desc">Largest first</option>
            <option value="size:asc">Smallest first</option>
          </select>
        </label>
        <div className="actions">
          <button type="button" className="primary" onClick={() => fileInput.current?.click()}>
            Upload
          </button>
          <button type="button" onClick={() => dirInput.current?.click()}>
            Upload folder
          </button>
          <button type="button" onClick={() => setModal({ kind: 'mkdir' })}>
            New folder
          </button>
        </div>
        {query.trim() !== '' && (
          <label className="check">
            <input type="checkbox" checked={everywhere} onChange={(e) => setEverywhere(e.target.checked)} />
            Search the whole space
          </label>
        )}
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          aria-label="Upload files"
          onChange={(e) => onPick(e.currentTarget)}
        />
        <input
          ref={dirInput}
          type="file"
          multiple
          hidden
          data-testid="folder-input"
          aria-label="Upload a folder"
          onChange={(e) => onPick(e.currentTarget)}
          {...({ webkitdirectory: '' } as object)}
        />
      </div>

      <UploadList compact />

      {stale && (
        <p className="note" role="status">
          Offline — showing this folder as it was at {formatDate(stale)}.
        </p>
      )}
      <ErrorNote error={error} />

      {entries === null || (wide && found === null) ? (
        <p className="loading" role="status">
          Loading…
        </p>
      ) : shown.length === 0 ? (
        <div className="empty">
          <p>
            {query ? 'Nothing matches your search.' : 'This folder is empty. Drop files here or use Upload.'}
          </p>
        </div>
      ) : (
        <>
          <p className="count" aria-live="polite">
            {shown.length} item{shown.length === 1 ? '' : 's'}
            {loadingMore ? ', loading more…' : ''}
          </p>
          <VirtualList
            label="Files"
            items={shown}
            rowHeight={ROW}
            getKey={(e) => e.id}
            renderRow={(e) => (
              <Row entry={e} showPath={wide} onMenu={() => setModal({ kind: 'actions', entry: e })} />
            )}
          />
        </>
      )}

      {modal?.kind === 'actions' && (
        <ActionsDialog entry={modal.entry} onClose={() => setModal(null)} setModal={setModal} />
      )}
      {modal?.kind === 'rename' && (
        <RenameDialog entry={modal.entry} onClose={() => setModal(null)} onDone={reload} />
      )}
      {modal?.kind === 'delete' && (
        <DeleteDialog entry={modal.entry} onClose={() => setModal(null)} onDone={reload} />
      )}
      {modal?.kind === 'mkdir' && (
        <MkdirDialog folder={folder} space={spaceId} onClose={() => setModal(null)} onDone={reload} />
      )}
      <Suspense fallback={null}>
        {modal?.kind === 'versions' && (
          <VersionsDialog entry={modal.entry} onClose={() => setModal(null)} onDone={reload} />
        )}
        {modal?.kind === 'share' && <ShareDialog entry={modal.entry} onClose={() => setModal(null)} />}
      </Suspense>
    </section>
  );
}

function Row({ entry, onMenu, showPath }: { entry: FileInfo; onMenu: () => void; showPath?: boolean }) {
  const type = fileType(entry.name, entry.kind);
  const meta =
    (showPath ? `in ${parentPath(entry.path)} · ` : '') +
    (entry.kind === 'dir'
      ? `Folder · ${formatDate(entry.mtime)}`
      : `${formatSize(entry.size)} · ${formatDate(entry.mtime)}`);
  return (
    <div className="row" data-name={entry.name}>
      <FileIcon type={type} />
      {entry.kind === 'dir' ? (
        <a className="name" href={folderRoute(entry.path)} onClick={linkClick}>
          <span className="title">{entry.name}</span>
          <span className="meta">{meta}</span>
        </a>
      ) : (
        <button type="button" className="name" onClick={onMenu}>
          <span className="title">{entry.name}</span>
          <span className="meta">{meta}</span>
        </button>
      )}
      <button type="button" className="icon-btn" aria-label={`Actions for ${entry.name}`} onClick={onMenu}>
        ⋯
      </button>
    </div>
  );
}

export async function downloadEntry(entry: FileInfo): Promise<void> {
  const res = await client.files.download({ id: entry.id });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = entry.name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function ActionsDialog({
  entry,
  onClose,
  setModal,
}: {
  entry: FileInfo;
  onClose: () => void;
  setModal: (m: Modal) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const isFile = entry.kind === 'file';
  return (
    <Dialog title={entry.name} onClose={onClose}>
      <p className="meta">
        {isFile ? `${formatSize(entry.size)} · ` : 'Folder · '}modified {formatDate(entry.mtime)} · version{' '}
        {entry.version}
      </p>
      <div className="menu">
        {isFile && (
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              downloadEntry(entry).then(onClose, (e: unknown) => {
                setBusy(false);
                setError(e);
              });
            }}
          >
            Download
          </button>
        )}
        {!isFile && (
          <button type="button" onClick={() => navigate(folderRoute(entry.path))}>
            Open
          </button>
        )}
        <button type="button" onClick={() => setModal({ kind: 'rename', entry })}>
          Rename or move
        </button>
        {isFile && (
          <button type="button" onClick={() => setModal({ kind: 'versions', entry })}>
            Version history
          </button>
        )}
        <button type="button" onClick={() => setModal({ kind: 'share', entry })}>
          Share link
        </button>
        <button type="button" className="danger" onClick={() => setModal({ kind: 'delete', entry })}>
          Delete
        </button>
      </div>
      <ErrorNote error={error} />
    </Dialog>
  );
}

function RenameDialog({ entry, onClose, onDone }: EntryDialogProps) {
  const { toast } = useApp();
  const [path, setPath] = useState(entry.path);
  const [error, setError] = useState<unknown>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    try {
      const target = path.startsWith('/') ? path : joinPath(parentPath(entry.path), path);
      await client.files.move(entry.id, target);
      toast(`Moved to ${target}`);
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <Dialog title={`Rename or move ${entry.name}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          New path (a plain name renames in place)
          <input name="path" value={path} onChange={(e) => setPath(e.target.value)} autoFocus required />
        </label>
        <ErrorNote error={error} />
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ entry, onClose, onDone }: EntryDialogProps) {
  const { toast } = useApp();
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={`Delete ${entry.name}?`} onClose={onClose}>
      <p>It goes to the trash, where you can restore it for 30 days.</p>
      <ErrorNote error={error} />
      <div className="form-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          onClick={() =>
            void client.files.delete(entry.id).then(() => {
              toast(`${entry.name} moved to trash`);
              onDone();
              onClose();
            }, setError)
          }
        >
          Move to trash
        </button>
      </div>
    </Dialog>
  );
}

function MkdirDialog({
  folder,
  space,
  onClose,
  onDone,
}: {
  folder: string;
  space?: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    try {
      await client.files.mkdir(joinPath(folder, name.trim()), { space });
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <Dialog title="New folder" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Folder name
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} autoFocus required />
        </label>
        <ErrorNote error={error} />
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
