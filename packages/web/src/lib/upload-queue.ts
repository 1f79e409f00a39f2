// The offline-first upload queue. Every upload goes through it: the file is first written to
// IndexedDB (so it survives reloads and lost connections), then sent by a small worker that
// pauses while offline and resumes by itself on the browser's "online" event. Files of 1 MiB and
// more go in chunks over the sync protocol (chunked-upload.ts), so a retry sends only what the
// server does not have yet; smaller ones are one plain upload request.

import { uuid7 } from '@ferry/core/uuid7';
import { isFerryApiError } from '@ferry/client/api/index';
import { client } from './api.ts';
import type { HashedBlob } from './blob-hasher.ts';
import { QUEUE, UPLOAD_PLANS, idbDelete, idbGet, idbGetAll, idbPut } from './idb.ts';

export interface QueueItem {
  id: string;
  /** Destination path in the space. */
  path: string;
  space?: string;
  /** The account that queued it: only that account's session uploads it. */
  userId: string;
  file: Blob;
  size: number;
  mtime: number;
  addedAt: number;
  attempts: number;
  /** Last permanent error (4xx): the item waits for the user to retry or remove it. */
  error?: string;
}

/** What a chunked upload keeps between attempts and reloads (store UPLOAD_PLANS, by item id). */
interface UploadPlan {
  id: string;
  opId: string;
  hashed: HashedBlob;
}

export interface QueueView {
  /** `loaded`: bytes the server confirmed; `hashing`: bytes read so far while chunking a large file. */
  items: (QueueItem & { loaded: number; active: boolean; hashing?: number })[];
  /** Items not yet on the server. */
  pending: number;
  online: boolean;
  /** Paths uploaded since the page loaded, newest last (for listings to refresh). */
  completed: number;
}

const CONCURRENCY = 2;
const RETRY_MS = 5000;

let items: QueueItem[] = [];
const progress = new Map<string, number>();
const hashing = new Map<string, number>();
const active = new Set<string>();
let completed = 0;
let loaded = false;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let view: QueueView = { items: [], pending: 0, online: navigator.onLine, completed: 0 };
const listeners = new Set<() => void>();
const doneListeners = new Set<(item: QueueItem) => void>();

function mine(): QueueItem[] {
  const me = client.session?.user.id;
  return items.filter((i) => i.userId === me);
}

function emit(): void {
  view = {
    items: mine().map((i) => ({
      ...i,
      loaded: progress.get(i.id) ?? 0,
      active: active.has(i.id),
      hashing: hashing.get(i.id),
    })),
    pending: mine().length,
    online: navigator.onLine,
    completed,
  };
  listeners.forEach((fn) => fn());
}

export function subscribeQueue(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function getQueueView(): QueueView {
  return view;
}

/** Called after each successful upload (the browser refreshes the folder it landed in). */
export function onUploaded(fn: (item: QueueItem) => void): () => void {
  doneListeners.add(fn);
  return () => doneListeners.delete(fn);
}

/** Loads the persisted queue once, and on each later call re-reads whose items are shown and sent. */
export async function loadQueue(): Promise<void> {
  if (loaded) {
    emit();
    pump();
    return;
  }
  loaded = true;
  try {
    const stored = await idbGetAll<QueueItem>(QUEUE);
    const known = new Set(items.map((i) => i.id));
    items = [...stored.filter((i) => !known.has(i.id)), ...items].sort((a, b) => a.addedAt - b.addedAt);
  } catch {
    // IndexedDB unavailable (private mode in some browsers): the queue still works in memory.
  }
  emit();
  pump();
}

/** Queues files for upload; they are persisted before this resolves. */
export async function enqueue(
  files: { file: Blob; path: string; mtime?: number }[],
  space?: string,
): Promise<void> {
  const now = Date.now();
  const added = files.map((f, n) => ({
    id: `${now.toString(36)}-${n}-${Math.random().toString(36).slice(2, 8)}`,
    path: f.path,
    space,
    userId: client.session?.user.id ?? '',
    file: f.file,
    size: f.file.size,
    mtime: f.mtime ?? (f.file instanceof File ? f.file.lastModified : now),
    addedAt: now + n / 1000,
    attempts: 0,
  }));
  for (const item of added) {
    try {
      await idbPut(QUEUE, item);
    } catch {
      // keep it in memory at least
    }
  }
  items.push(...added);
  emit();
  pump();
}

export async function removeFromQueue(id: string): Promise<void> {
  items = items.filter((i) => i.id !== id);
  await idbDelete(QUEUE, id).catch(() => undefined);
  await idbDelete(UPLOAD_PLANS, id).catch(() => undefined);
  emit();
}

export function retryItem(id: string): void {
  const item = items.find((i) => i.id === id);
  if (item) delete item.error;
  emit();
  pump();
}

function schedule(ms: number): void {
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    pump();
  }, ms);
}

export function pump(): void {
  if (!navigator.onLine || !client.session) return;
  while (active.size < CONCURRENCY) {
    const me = client.session.user.id;
    const next = items.find((i) => !i.error && !active.has(i.id) && i.userId === me);
    if (!next) return;
    active.add(next.id);
    emit();
    void send(next);
  }
}

/** Below this, one plain upload request is simpler and as fast. */
const CHUNKED_MIN_BYTES = 1024 * 1024;

// Chunking needs WebCrypto, which browsers give only to secure contexts (https, localhost).
const canChunk = () => typeof crypto !== 'undefined' && !!crypto.subtle && !!crypto.randomUUID;

type Chunking = typeof import('./blob-hasher.ts') & typeof import('./chunked-upload.ts');

/**
 * The chunking code, loaded on the first large upload so the file browser's first paint does not
 * wait for it; null when it cannot load (a newer version of the app replaced it on the server):
 * the file then goes up in one request rather than not at all.
 */
async function chunking(): Promise<Chunking | null> {
  try {
    const [hasher, uploader] = await Promise.all([import('./blob-hasher.ts'), import('./chunked-upload.ts')]);
    return { ...hasher, ...uploader };
  } catch {
    return null;
  }
}

/** The item's chunk plan: from IndexedDB after a reload, else hashed now (once) and saved. */
async function planOf(item: QueueItem, { hashBlob }: Chunking): Promise<UploadPlan> {
  const saved = await idbGet<UploadPlan>(UPLOAD_PLANS, item.id).catch(() => undefined);
  if (saved && saved.hashed.size === item.size) return saved;
  hashing.set(item.id, 0);
  try {
    const hashed = await hashBlob(item.file, {
      onProgress: (n) => {
        hashing.set(item.id, n);
        emit();
      },
    });
    const plan = { id: item.id, opId: uuid7(), hashed };
    await idbPut(UPLOAD_PLANS, plan).catch(() => undefined);
    return plan;
  } finally {
    hashing.delete(item.id);
  }
}

async function upload(item: QueueItem): Promise<void> {
  const onProgress = (loaded: number) => {
    progress.set(item.id, loaded);
    emit();
  };
  const chunked = item.size >= CHUNKED_MIN_BYTES && canChunk() ? await chunking() : null;
  if (!chunked) {
    await client.files.upload(item.path, item.file, {
      space: item.space,
      mtime: item.mtime,
      onProgress: (p) => onProgress(p.loaded),
    });
    return;
  }
  const plan = await planOf(item, chunked);
  await chunked.uploadInChunks(client, { ...item, opId: plan.opId, hashed: plan.hashed, onProgress });
}

async function send(item: QueueItem): Promise<void> {
  item.attempts++;
  try {
    await upload(item);
    items = items.filter((i) => i.id !== item.id);
    completed++;
    await idbDelete(QUEUE, item.id).catch(() => undefined);
    await idbDelete(UPLOAD_PLANS, item.id).catch(() => undefined);
    doneListeners.forEach((fn) => fn(item));
  } catch (e) {
    progress.delete(item.id);
    // CHUNKS_MISSING: a chunk went away between sending and committing; the next try resends it.
    if (isFerryApiError(e) && !e.transient && !['NOT_SIGNED_IN', 'CHUNKS_MISSING'].includes(e.code)) {
      item.error = `${e.message} (${e.code})`;
      await idbPut(QUEUE, item).catch(() => undefined);
    } else {
      // Offline or server trouble: leave it queued; "online" or the timer brings it back.
      schedule(RETRY_MS);
    }
  } finally {
    active.delete(item.id);
    emit();
  }
  pump();
}

window.addEventListener('online', () => {
  emit();
  pump();
});
window.addEventListener('offline', emit);
