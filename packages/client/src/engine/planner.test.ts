import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type PlanOp } from './planner.ts';
import type { LocalEntry, RemoteEntry, SyncedEntry } from './tree-types.ts';

const L = (path: string, hash: string | null, ino = 1, kind: 'file' | 'dir' = 'file'): LocalEntry => ({
  path,
  kind,
  size: 1,
  mtime: 1,
  contentHash: kind === 'dir' ? null : hash,
  manifestId: null,
  ino,
  refs: new Uint8Array(0),
  diskPath: path,
});
const R = (
  path: string,
  hash: string,
  v: string,
  fileId = 'f' + path,
  kind: 'file' | 'dir' = 'file',
): RemoteEntry => ({
  path,
  kind,
  size: 1,
  mtime: 1,
  contentHash: kind === 'dir' ? null : hash,
  manifestId: 'm' + hash,
  fileId,
  versionId: v,
  deviceId: 'd',
});
const S = (path: string, hash: string, v: string, ino = 1, fileId = 'f' + path): SyncedEntry => ({
  path,
  kind: 'file',
  size: 1,
  mtime: 1,
  contentHash: hash,
  manifestId: 'm' + hash,
  fileId,
  versionId: v,
  ino,
  refs: new Uint8Array(0),
});
const m = <T extends { path: string }>(...xs: T[]) => new Map(xs.map((x) => [x.path, x]));
const types = (ops: PlanOp[]) => ops.map((o) => `${o.type} ${o.path}`);

void test('in sync: no ops', () => {
  const p = plan({ synced: m(S('/a', 'h', 'v1')), local: m(L('/a', 'h')), remote: m(R('/a', 'h', 'v1')) });
  assert.deepEqual(p.ops, []);
});

void test('local create, edit and delete go up; remote ones come down', () => {
  const p = plan({
    synced: m(S('/edit', 'h', 'v1'), S('/del', 'h', 'v1'), S('/redit', 'h', 'v1'), S('/rdel', 'h', 'v1', 2)),
    local: m(L('/new', 'n', 9), L('/edit', 'h2'), L('/redit', 'h'), L('/rdel', 'h', 2)),
    remote: m(R('/edit', 'h', 'v1'), R('/del', 'h', 'v1'), R('/redit', 'x', 'v2'), R('/rnew', 'y', 'v1')),
  });
  assert.deepEqual(
    types(p.ops).sort(),
    [
      'deleteLocal /rdel',
      'deleteRemote /del',
      'download /redit',
      'download /rnew',
      'upload /edit',
      'upload /new',
    ].sort(),
  );
});

void test('both edited: the local edit goes up against its stale base (the server keeps both)', () => {
  const p = plan({
    synced: m(S('/a', 'h', 'v1')),
    local: m(L('/a', 'mine')),
    remote: m(R('/a', 'theirs', 'v2')),
  });
  assert.equal(p.ops.length, 1);
  const op = p.ops[0];
  assert.equal(op.type, 'upload');
  assert.equal(op.type === 'upload' && op.base?.versionId, 'v1');
});

void test('delete vs modify: the modification survives on both sides', () => {
  const a = plan({
    synced: m(S('/a', 'h', 'v1')),
    local: m(L('/b', 'x', 5)),
    remote: m(R('/a', 'new', 'v2')),
  });
  assert.ok(types(a.ops).includes('download /a'));
  const b = plan({ synced: m(S('/a', 'h', 'v1')), local: m(L('/a', 'new')), remote: m() });
  assert.deepEqual(types(b.ops), ['upload /a']);
  assert.equal(b.ops[0].type === 'upload' && b.ops[0].base, null);
});

void test('same change on both sides is only recorded', () => {
  const p = plan({ synced: m(S('/a', 'h', 'v1')), local: m(L('/a', 'z')), remote: m(R('/a', 'z', 'v2')) });
  assert.deepEqual(types(p.ops), ['record /a']);
});

void test('a local rename is detected by inode and sent without content', () => {
  const p = plan({
    synced: m(S('/a', 'h', 'v1', 7)),
    local: m(L('/b', 'h', 7)),
    remote: m(R('/a', 'h', 'v1')),
  });
  assert.equal(p.ops.length, 1);
  const op = p.ops[0];
  assert.ok(op.type === 'upload' && op.renameFrom === '/a' && op.path === '/b');
});

void test('a local rename is detected by content when the inode changed (copy + delete)', () => {
  const p = plan({
    synced: m(S('/a', 'h', 'v1', 7)),
    local: m(L('/b', 'h', 8)),
    remote: m(R('/a', 'h', 'v1')),
  });
  assert.ok(p.ops[0].type === 'upload' && p.ops[0].renameFrom === '/a');
});

void test('a remote rename (same file id) is a local rename, not a download', () => {
  const p = plan({
    synced: m(S('/a', 'h', 'v1', 7, 'F')),
    local: m(L('/a', 'h', 7)),
    remote: m(R('/b', 'h', 'v2', 'F')),
  });
  assert.deepEqual(types(p.ops), ['renameLocal /b']);
});

void test('an empty local listing with a non-empty synced tree halts instead of deleting', () => {
  const p = plan({ synced: m(S('/a', 'h', 'v1')), local: new Map(), remote: m(R('/a', 'h', 'v1')) });
  assert.ok(p.halt);
  assert.deepEqual(p.ops, []);
  const forced = plan({
    synced: m(S('/a', 'h', 'v1')),
    local: new Map(),
    remote: m(R('/a', 'h', 'v1')),
    allowMassDelete: true,
  });
  assert.deepEqual(types(forced.ops), ['deleteRemote /a']);
});

void test('folders: created before their files, deleted after them, deepest first', () => {
  const p = plan({
    synced: m(
      { ...S('/old', '', 'v1'), kind: 'dir', contentHash: null },
      S('/old/x', 'h', 'v1', 3),
      S('/keep', 'k', 'v1', 4),
    ),
    local: m(L('/new', null, 5, 'dir'), L('/new/y', 'q', 6), L('/keep', 'k', 4)),
    remote: m(R('/old', '', 'v1', 'fold', 'dir'), R('/old/x', 'h', 'v1'), R('/keep', 'k', 'v1')),
  });
  assert.deepEqual(types(p.ops), [
    'upload /new',
    'upload /new/y',
    'deleteRemote /old/x',
    'deleteRemote /old',
  ]);
});

void test('a file still being written (no hash) is left alone', () => {
  const p = plan({ synced: m(S('/a', 'h', 'v1')), local: m(L('/a', null)), remote: m(R('/a', 'x', 'v2')) });
  assert.deepEqual(p.ops, []);
});
