// The three-tree planner: compares local (scanner) and remote (change feed) with synced (what both
// sides agreed on last) path by path and emits the operations that bring them together. Pure: no
// I/O, no clock — the executor runs the plan. Conflicts go to the server with their stale base;
// the server's rule decides who keeps the path and writes the conflict copy.

import { type LocalEntry, type RemoteEntry, type SyncedEntry, sameContent } from './tree-types.ts';

export type PlanOp =
  /** Send a local file or folder (new, modified, or renamed from `renameFrom`). */
  | { type: 'upload'; path: string; local: LocalEntry; base: SyncedEntry | null; renameFrom?: string }
  | { type: 'deleteRemote'; path: string; base: SyncedEntry }
  /** Write the remote file here, only if the local path still holds `expect` (null: nothing). */
  | { type: 'download'; path: string; remote: RemoteEntry; expect: LocalEntry | null }
  | { type: 'mkdirLocal'; path: string; remote: RemoteEntry }
  | { type: 'deleteLocal'; path: string; expect: LocalEntry }
  | { type: 'renameLocal'; from: string; path: string; remote: RemoteEntry; expect: LocalEntry }
  /** Both sides already agree: remember it as synced. */
  | { type: 'record'; path: string; remote: RemoteEntry; local: LocalEntry }
  /** Gone on both sides: forget the synced entry. */
  | { type: 'forget'; path: string };

export interface PlanInput {
  synced: Map<string, SyncedEntry>;
  local: Map<string, LocalEntry>;
  remote: Map<string, RemoteEntry>;
  /** Permit deleting everything when the local listing is empty (off by default). */
  allowMassDelete?: boolean;
}

export interface Plan {
  ops: PlanOp[];
  /** Set when the plan refuses to run (nothing in ops then). */
  halt?: string;
}

const depth = (p: string) => p.split('/').length;

function remoteChanged(s: SyncedEntry | undefined, r: RemoteEntry | undefined): boolean {
  if (!s && !r) return false;
  if (!s || !r) return true;
  if (s.kind === 'dir' && r.kind === 'dir') return false;
  return s.versionId !== r.versionId;
}

export function plan({ synced, local, remote, allowMassDelete = false }: PlanInput): Plan {
  if (local.size === 0 && synced.size > 0 && !allowMassDelete) {
    return {
      ops: [],
      halt: `the sync folder is empty but ${synced.size} synced entries were expected: sync halted instead of deleting them everywhere`,
    };
  }
  const ops: PlanOp[] = [];
  const paths = new Set<string>([...synced.keys(), ...local.keys(), ...remote.keys()]);
  for (const path of paths) {
    const s = synced.get(path);
    const l = local.get(path);
    const r = remote.get(path);
    if (l && l.kind === 'file' && !l.contentHash) continue; // still being written
    const lc = !sameContent(l, s);
    const rc = remoteChanged(s, r);
    if (!lc && !rc) continue;
    if (lc && !rc) {
      if (!l) {
        if (r && s) ops.push({ type: 'deleteRemote', path, base: s });
        else ops.push({ type: 'forget', path });
      } else {
        ops.push({ type: 'upload', path, local: l, base: s ?? null });
      }
      continue;
    }
    if (!lc && rc) {
      if (!r) {
        if (l) ops.push({ type: 'deleteLocal', path, expect: l });
        else ops.push({ type: 'forget', path });
      } else if (l && sameContent(l, r)) ops.push({ type: 'record', path, remote: r, local: l });
      else if (r.kind === 'dir') {
        if (!l) ops.push({ type: 'mkdirLocal', path, remote: r });
      } else if (!l || l.kind === 'file') ops.push({ type: 'download', path, remote: r, expect: l ?? null });
      continue;
    }
    // Both sides changed.
    if (!l && !r) ops.push({ type: 'forget', path });
    else if (l && r && sameContent(l, r)) ops.push({ type: 'record', path, remote: r, local: l });
    else if (!l && r) {
      // Deleted here, changed there: the change survives.
      if (r.kind === 'dir') ops.push({ type: 'mkdirLocal', path, remote: r });
      else ops.push({ type: 'download', path, remote: r, expect: null });
    } else if (l && !r) {
      // Changed here, deleted there: the change survives as a new entry.
      ops.push({ type: 'upload', path, local: l, base: null });
    } else if (l && r) {
      if (l.kind === 'dir' && r.kind === 'dir') ops.push({ type: 'record', path, remote: r, local: l });
      else if (l.kind === r.kind) ops.push({ type: 'upload', path, local: l, base: s ?? null });
      // a file on one side and a folder on the other: left for the user to resolve
    }
  }
  return { ops: order(detectRemoteRenames(detectLocalRenames(ops, synced), synced)) };
}

/** A synced file gone locally + a new local file with its inode or content → one rename upload. */
function detectLocalRenames(ops: PlanOp[], synced: Map<string, SyncedEntry>): PlanOp[] {
  const deletes = ops.filter(
    (o): o is Extract<PlanOp, { type: 'deleteRemote' }> =>
      o.type === 'deleteRemote' && o.base.kind === 'file' && !!o.base.fileId,
  );
  if (deletes.length === 0) return ops;
  const creates = ops.filter(
    (o): o is Extract<PlanOp, { type: 'upload' }> =>
      o.type === 'upload' && !o.base && o.local.kind === 'file' && !synced.has(o.path),
  );
  const byIno = new Map<number, (typeof deletes)[number]>();
  const byHash = new Map<string, (typeof deletes)[number][]>();
  for (const d of deletes) {
    if (d.base.ino !== null) byIno.set(d.base.ino, d);
    const list = byHash.get(d.base.contentHash ?? '') ?? [];
    list.push(d);
    byHash.set(d.base.contentHash ?? '', list);
  }
  const used = new Set<PlanOp>();
  for (const c of creates) {
    let d = c.local.ino !== null ? byIno.get(c.local.ino) : undefined;
    if (d && used.has(d)) d = undefined;
    // Same inode with new content is still a rename (plus an edit): it keeps the file's history.
    if (!d) d = (byHash.get(c.local.contentHash ?? '') ?? []).find((x) => !used.has(x));
    if (!d) continue;
    used.add(d);
    c.base = d.base;
    c.renameFrom = d.path;
  }
  return ops.filter((o) => !used.has(o));
}

/** A synced file deleted remotely whose file id reappears at a new path → a local rename. */
function detectRemoteRenames(ops: PlanOp[], synced: Map<string, SyncedEntry>): PlanOp[] {
  const deletes = new Map<string, Extract<PlanOp, { type: 'deleteLocal' }>>();
  for (const o of ops) {
    const s = o.type === 'deleteLocal' ? synced.get(o.path) : undefined;
    if (o.type === 'deleteLocal' && s?.fileId && o.expect.kind === 'file') deletes.set(s.fileId, o);
  }
  if (deletes.size === 0) return ops;
  const drop = new Set<PlanOp>();
  const out: PlanOp[] = [];
  for (const o of ops) {
    if (o.type === 'download' && !o.expect) {
      const d = deletes.get(o.remote.fileId);
      if (d && !drop.has(d) && d.expect.contentHash === o.remote.contentHash && !d.expect.placeholder) {
        drop.add(d);
        out.push({ type: 'renameLocal', from: d.path, path: o.path, remote: o.remote, expect: d.expect });
        continue;
      }
    }
    out.push(o);
  }
  return out.filter((o) => !drop.has(o));
}

const RANK: Record<PlanOp['type'], number> = {
  mkdirLocal: 0,
  renameLocal: 1,
  download: 2,
  record: 3,
  forget: 3,
  upload: 4,
  deleteRemote: 5,
  deleteLocal: 6,
};

/** Folders before their contents, contents before folder deletes. */
function order(ops: PlanOp[]): PlanOp[] {
  return ops.sort((a, b) => {
    if (RANK[a.type] !== RANK[b.type]) return RANK[a.type] - RANK[b.type];
    const deleting = a.type === 'deleteLocal' || a.type === 'deleteRemote';
    const da = depth(a.path);
    const db = depth(b.path);
    if (a.type === 'upload' && b.type === 'upload') {
      const ka = a.local.kind === 'dir' ? 0 : 1;
      const kb = b.local.kind === 'dir' ? 0 : 1;
      if (ka !== kb) return ka - kb;
    }
    if (da !== db) return deleting ? db - da : da - db;
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}
