// PackChunkStore: chunks appended to pack files (like restic, borg and git packs) with an index in
// SQLite, and group commit. Two loops: the writer appends whatever puts have queued with one writev
// and lets go of their bytes (PutOptions.released), and the syncer makes whatever has been written
// durable with ONE fdatasync of the pack and one index transaction. put() resolves only after the
// fsync that covers its record, and a chunk is visible to has()/get() only once that fsync and its
// index entry are done. Writing never waits for an fsync: an uploader streams at disk speed while
// each fsync covers everything written during the one before it.
//
// Crash safety: a record is indexed only after it is on disk, and opening the store scans each
// pack past its indexed end, re-indexes the records that hash-verify and truncates the torn tail.
// delete() drops the index entry; the bytes stay in the pack until a compaction (not written yet)
// rewrites packs whose dead_bytes make it worthwhile.

import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import { HASH_RE, type ChunkStore, type PutOptions, type PutResult } from './chunk-store.ts';
import { sha256Hex, verify } from './chunk-codec.ts';
import { fsyncDir } from './fs-chunk-store.ts';
import { ChunkCompressor } from '@ferry/core/chunk-compressor';
import { PackIndex, type ChunkLocation, type IndexEntry } from './pack-index.ts';
import {
  FLAG_ZSTD,
  PACK_HEADER_SIZE,
  PACK_MAGIC,
  RECORD_HEADER_SIZE,
  decodeBody,
  encodeBody,
  readRecordHeader,
  writeRecordHeader,
} from './pack-format.ts';

export interface PackChunkStoreOptions {
  /** A pack is closed and a new one started once it reaches this size. Default 64 MiB. */
  packSize?: number;
}

interface Pending {
  hash: Buffer;
  size: number;
  flags: number;
  body: Uint8Array;
  released?: () => void;
  done: (e?: Error) => void;
}

interface OpenPack {
  id: number;
  fh: FileHandle;
  /** Where the next record goes: the end of the last batch written. */
  end: number;
  /** Records written and not yet synced (or failed). */
  unsynced: number;
  /** No more writes (full, or its tail is uncertain): closed once `unsynced` reaches 0. */
  retired: boolean;
}

/** A record that is in its pack (written), waiting for the fsync that makes it durable. */
interface Written {
  pack: OpenPack;
  entry: IndexEntry;
  put: Pending;
}

interface Reader {
  fh: Promise<FileHandle>;
  users: number;
  evicted: boolean;
}

const MAX_READERS = 32;
const PACK_RE = /^(\d{8})\.pack$/;
const packName = (id: number) => `${String(id).padStart(8, '0')}.pack`;

export class PackChunkStore implements ChunkStore {
  readonly #dir: string;
  readonly #packsDir: string;
  readonly #packSize: number;
  #index: PackIndex | undefined;
  #ready: Promise<void> | undefined;
  #lastPackId = 0;
  #current: OpenPack | undefined;
  /** Puts waiting to be written. */
  #queue: Pending[] = [];
  #writer: Promise<void> | undefined;
  /** Records written, in pack order, waiting for the syncer. */
  #unsynced: Written[] = [];
  #syncer: Promise<void> | undefined;
  /** The last pack on disk may take more records only until this process opens a pack. */
  #mayReuseLast = true;
  /** Puts whose record is written but not yet committed, so a concurrent put of the same chunk waits. */
  readonly #inFlight = new Map<string, Promise<PutResult>>();
  /** Read handles by pack, most recently used last; a handle closes once evicted and unused. */
  readonly #readers = new Map<number, Reader>();
  /** Packs never appended to again after a failed batch. */
  readonly #abandoned = new Set<number>();
  #closed = false;
  readonly #compressor = new ChunkCompressor();
  #batches = 0;
  #records = 0;

  constructor(dir: string, options: PackChunkStoreOptions = {}) {
    this.#dir = dir;
    this.#packsDir = join(dir, 'packs');
    this.#packSize = options.packSize ?? 64 * 1024 * 1024;
  }

  #open(): Promise<void> {
    this.#ready ??= this.#recover();
    return this.#ready;
  }

  get #idx(): PackIndex {
    if (!this.#index) throw new FerryError('INTERNAL', 'chunk store is not open');
    return this.#index;
  }

  /** Opens the index, re-indexes records past each pack's indexed end and cuts torn tails. */
  async #recover(): Promise<void> {
    await mkdir(this.#packsDir, { recursive: true });
    this.#index = new PackIndex(join(this.#dir, 'index.db'));
    await fsyncDir(this.#dir);
    const ids = (await readdir(this.#packsDir))
      .map((f) => PACK_RE.exec(f))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const id of ids) await this.#recoverPack(id);
    this.#lastPackId = ids.at(-1) ?? 0;
  }

  async #recoverPack(id: number): Promise<void> {
    const fh = await open(join(this.#packsDir, packName(id)), 'r+');
    try {
      const fileSize = (await fh.stat()).size;
      const head = Buffer.alloc(PACK_HEADER_SIZE);
      await fh.read(head, 0, PACK_HEADER_SIZE, 0);
      if (fileSize < PACK_HEADER_SIZE || !head.equals(PACK_MAGIC)) {
        // Torn while being created: nothing in it was ever acknowledged. Keep the file (its id is
        // taken) but make it an empty, valid pack.
        await fh.truncate(0);
        await fh.write(PACK_MAGIC, 0, PACK_HEADER_SIZE, 0);
        await fh.datasync();
        this.#idx.add([], id, PACK_HEADER_SIZE);
        return;
      }
      let pos = Math.max(this.#idx.indexedEnd(id) ?? PACK_HEADER_SIZE, PACK_HEADER_SIZE);
      const found: IndexEntry[] = [];
      const header = Buffer.alloc(RECORD_HEADER_SIZE);
      while (pos + RECORD_HEADER_SIZE <= fileSize) {
        await fh.read(header, 0, RECORD_HEADER_SIZE, pos);
        const h = readRecordHeader(header);
        const bodyAt = pos + RECORD_HEADER_SIZE;
        if (!h || bodyAt + h.storedSize > fileSize) break;
        const body = Buffer.alloc(h.storedSize);
        await fh.read(body, 0, h.storedSize, bodyAt);
        const data = await decodeBody(h.flags, body).catch(() => undefined);
        if (!data || data.length !== h.size || sha256Hex(data) !== h.hash.toString('hex')) break;
        found.push({
          hash: h.hash,
          pack: id,
          pos: bodyAt,
          size: h.size,
          storedSize: h.storedSize,
          flags: h.flags,
        });
        pos = bodyAt + h.storedSize;
      }
      if (pos < fileSize) {
        await fh.truncate(pos);
        await fh.datasync();
      }
      this.#idx.add(found, id, pos);
    } finally {
      await fh.close();
    }
  }

  #key(hash: string): Buffer {
    if (!HASH_RE.test(hash)) throw new FerryError('BAD_REQUEST', `"${hash}" is not a SHA-256 hex hash`);
    return Buffer.from(hash, 'hex');
  }

  async put(hash: string, data: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const key = this.#key(hash);
    if (!options.verified) verify(hash, data);
    await this.#open();
    const known = this.#idx.get(key);
    if (known) return { created: false, storedSize: known.storedSize };
    const pending = this.#inFlight.get(hash);
    if (pending) return pending.then((r) => ({ created: false, storedSize: r.storedSize }));
    const p = this.#append(key, data, options);
    this.#inFlight.set(hash, p);
    try {
      return await p;
    } finally {
      this.#inFlight.delete(hash);
    }
  }

  async #append(hash: Buffer, data: Uint8Array, options: PutOptions): Promise<PutResult> {
    const { flags, body } = await encodeBody(data, this.#compressor, options.zstd);
    await new Promise<void>((resolve, reject) => {
      if (this.#closed) throw new FerryError('INTERNAL', 'chunk store is closed');
      const done = (e?: Error) => (e ? reject(e) : resolve());
      this.#queue.push({ hash, size: data.length, flags, body, released: options.released, done });
      this.#writer ??= this.#write();
    });
    return { created: true, storedSize: body.length };
  }

  /** The writer: appends each batch of queued puts with one writev, then hands them to the syncer. */
  async #write(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      let pack: OpenPack | undefined;
      try {
        pack = await this.#writablePack();
        const entries = await this.#appendBatch(pack, batch);
        for (const [i, put] of batch.entries()) this.#unsynced.push({ pack, entry: entries[i], put });
        pack.unsynced += batch.length;
        if (pack.end >= this.#packSize) this.#retire(pack);
        this.#syncer ??= this.#sync();
      } catch (e) {
        // The pack's tail is now uncertain: never append to it again. What was written before this
        // batch is still synced; recovery on the next open truncates or re-indexes the tail.
        if (pack) this.#abandon(pack);
        for (const p of batch) p.done(asError(e));
      } finally {
        for (const p of batch) release(p);
      }
    }
    this.#writer = undefined;
  }

  /** Writes one batch of records at the pack's end; answers their index entries. */
  async #appendBatch(pack: OpenPack, batch: Pending[]): Promise<IndexEntry[]> {
    const bufs: Uint8Array[] = [];
    const entries: IndexEntry[] = [];
    let pos = pack.end;
    for (const p of batch) {
      bufs.push(writeRecordHeader({ flags: p.flags, size: p.size, storedSize: p.body.length, hash: p.hash }));
      bufs.push(p.body);
      pos += RECORD_HEADER_SIZE;
      entries.push({
        hash: p.hash,
        pack: pack.id,
        pos,
        size: p.size,
        storedSize: p.body.length,
        flags: p.flags,
      });
      pos += p.body.length;
    }
    let at = pack.end;
    // writev may write less than asked (and takes at most IOV_MAX buffers at once): loop.
    for (let i = 0; i < bufs.length;) {
      const slice = bufs.slice(i, i + 512);
      const want = slice.reduce((n, b) => n + b.length, 0);
      const { bytesWritten } = await pack.fh.writev(slice, at);
      if (bytesWritten !== want) throw new FerryError('INTERNAL', 'short write to a chunk pack');
      at += want;
      i += slice.length;
    }
    // The syncer may have given up on this pack while the write ran (a failed fsync).
    if (this.#abandoned.has(pack.id))
      throw new FerryError('INTERNAL', 'the chunk pack failed while being written');
    pack.end = pos;
    return entries;
  }

  /**
   * The syncer: one fdatasync and one index transaction for everything written since the last
   * round, then the puts resolve. Records of a pack whose fsync failed are refused, and so are the
   * ones written to it after (after a failed fsync the page cache may lie; the pack is abandoned).
   */
  async #sync(): Promise<void> {
    while (this.#unsynced.length > 0) {
      const round = this.#unsynced;
      this.#unsynced = [];
      for (const pack of new Set(round.map((w) => w.pack))) {
        const items = round.filter((w) => w.pack === pack);
        try {
          if (this.#abandoned.has(pack.id)) throw new FerryError('INTERNAL', 'the chunk pack failed');
          await pack.fh.datasync();
          const last = items[items.length - 1].entry;
          this.#idx.add(
            items.map((w) => w.entry),
            pack.id,
            last.pos + last.storedSize,
          );
          this.#batches++;
          this.#records += items.length;
          for (const w of items) w.put.done();
        } catch (e) {
          this.#abandon(pack);
          for (const w of items) w.put.done(asError(e));
        }
        pack.unsynced -= items.length;
        if (pack.retired && pack.unsynced === 0) await pack.fh.close().catch(() => undefined);
      }
    }
    this.#syncer = undefined;
  }

  /** No more writes to `pack`; its handle closes once nothing written to it waits for a sync. */
  #retire(pack: OpenPack): void {
    if (this.#current === pack) this.#current = undefined;
    if (pack.retired) return;
    pack.retired = true;
    if (pack.unsynced === 0) void pack.fh.close().catch(() => undefined);
  }

  #abandon(pack: OpenPack): void {
    this.#abandoned.add(pack.id);
    this.#retire(pack);
  }

  async #writablePack(): Promise<OpenPack> {
    if (this.#current) return this.#current;
    const last = this.#lastPackId;
    const reuse = this.#mayReuseLast;
    this.#mayReuseLast = false; // after this, the last pack is one this process retired
    const lastEnd = reuse && last > 0 ? this.#idx.indexedEnd(last) : undefined;
    if (lastEnd !== undefined && lastEnd < this.#packSize && !this.#abandoned.has(last)) {
      const fh = await open(join(this.#packsDir, packName(last)), 'r+');
      const size = (await fh.stat()).size;
      if (size === lastEnd)
        return (this.#current = { id: last, fh, end: lastEnd, unsynced: 0, retired: false });
      await fh.close(); // a tail past the index (an earlier failed batch): start a fresh pack
    }
    const id = last + 1;
    const fh = await open(join(this.#packsDir, packName(id)), 'wx', 0o600);
    await fh.write(PACK_MAGIC, 0, PACK_HEADER_SIZE, 0);
    await fh.datasync();
    await fsyncDir(this.#packsDir);
    this.#lastPackId = id;
    this.#idx.add([], id, PACK_HEADER_SIZE);
    return (this.#current = { id, fh, end: PACK_HEADER_SIZE, unsynced: 0, retired: false });
  }

  async getStored(hash: string): Promise<{ zstd: boolean; body: Uint8Array }> {
    const { loc, body } = await this.#readRecord(hash);
    return { zstd: loc.flags === FLAG_ZSTD, body };
  }

  async #readRecord(hash: string): Promise<{ loc: ChunkLocation; body: Buffer }> {
    const key = this.#key(hash);
    await this.#open();
    const loc = this.#idx.get(key);
    if (!loc) throw new NotFoundError('chunk', { hash });
    const body = Buffer.allocUnsafe(loc.storedSize);
    const bytesRead = await this.#read(loc.pack, body, loc.pos);
    if (bytesRead !== loc.storedSize) throw new FerryError('HASH_MISMATCH', `chunk ${hash} is truncated`);
    return { loc, body };
  }

  async get(hash: string): Promise<Uint8Array> {
    const { loc, body } = await this.#readRecord(hash);
    const data = await decodeBody(loc.flags, body).catch((e: unknown) => {
      if (e instanceof FerryError) throw e;
      throw new FerryError('HASH_MISMATCH', `chunk ${hash} does not decode`);
    });
    verify(hash, data);
    return data;
  }

  async #read(pack: number, into: Buffer, pos: number): Promise<number> {
    let r = this.#readers.get(pack);
    if (r) this.#readers.delete(pack); // re-inserted below as the most recent
    r ??= { fh: open(join(this.#packsDir, packName(pack)), 'r'), users: 0, evicted: false };
    this.#readers.set(pack, r);
    if (this.#readers.size > MAX_READERS) {
      const [oldest, old] = this.#readers.entries().next().value!;
      this.#readers.delete(oldest);
      old.evicted = true;
      if (old.users === 0) void old.fh.then((h) => h.close()).catch(() => undefined);
    }
    r.users++;
    try {
      const fh = await r.fh;
      return (await fh.read(into, 0, into.length, pos)).bytesRead;
    } catch (e) {
      if (this.#readers.get(pack) === r) this.#readers.delete(pack);
      throw e;
    } finally {
      r.users--;
      if (r.evicted && r.users === 0) void r.fh.then((h) => h.close()).catch(() => undefined);
    }
  }

  async has(hashes: readonly string[]): Promise<Set<string>> {
    const keys = hashes.map((h) => this.#key(h));
    await this.#open();
    return new Set(hashes.filter((_, i) => this.#idx.get(keys[i]) !== undefined));
  }

  async delete(hash: string): Promise<void> {
    const key = this.#key(hash);
    await this.#open();
    this.#idx.remove(key);
  }

  async *list(): AsyncIterable<string> {
    await this.#open();
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const page = this.#idx.page(after, 1000);
      for (const h of page) yield h.toString('hex');
      if (page.length < 1000) return;
      after = page[page.length - 1];
    }
  }

  /** Group commit counters: `records / batches` is how many chunks one fsync covered on average. */
  get stats(): { batches: number; records: number } {
    return { batches: this.#batches, records: this.#records };
  }

  /** Waits for pending puts, then closes the packs and the index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#ready) return;
    await this.#ready.catch(() => undefined);
    while (this.#writer ?? this.#syncer) await (this.#writer ?? this.#syncer);
    const last = this.#current;
    this.#current = undefined;
    await last?.fh.close();
    for (const r of this.#readers.values()) await r.fh.then((h) => h.close()).catch(() => undefined);
    this.#readers.clear();
    this.#index?.close();
    this.#compressor.close();
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Lets go of a put's bytes once they are written (or failed): the caller may reuse or drop them. */
function release(p: Pending): void {
  p.body = EMPTY;
  const r = p.released;
  p.released = undefined;
  r?.();
}

const EMPTY = new Uint8Array(0);
