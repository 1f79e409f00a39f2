// PackChunkStore's own properties: group commit under concurrent puts, reopen, torn-tail recovery
// after a simulated crash, an index rebuilt from the packs, corruption never served.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { constants, zstdCompressSync } from 'node:zlib';
import { join } from 'node:path';
import { PackChunkStore } from './pack-chunk-store.ts';
import { RECORD_HEADER_SIZE, writeRecordHeader } from './pack-format.ts';
import { hookDatasync } from '../../testing/datasync-hook.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-packs-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function listAll(s: PackChunkStore): Promise<string[]> {
  const out: string[] = [];
  for await (const h of s.list()) out.push(h);
  return out;
}

const packFiles = async (dir: string) => (await readdir(join(dir, 'packs'))).sort();

/** Stores one 6,000-byte random chunk in a fresh store, closes it; the chunk and its pack's name. */
async function storeOneAndClose(dir: string): Promise<{ c: Buffer; pack: string }> {
  const s = new PackChunkStore(dir);
  const c = randomBytes(6000);
  await s.put(sha(c), c);
  await s.close();
  return { c, pack: (await packFiles(dir))[0] };
}

test('PackChunkStore: concurrent puts share fsyncs and all become readable', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const chunks = Array.from({ length: 300 }, (_, i) =>
      i % 2 ? randomBytes(4000 + i) : Buffer.from(`text ${i} `.repeat(500)),
    );
    const results = await Promise.all(chunks.map((c) => s.put(sha(c), c)));
    assert.ok(results.every((r) => r.created));
    assert.equal(s.stats.records, 300);
    assert.ok(s.stats.batches < 300, `one fsync per batch, got ${s.stats.batches} batches`);
    for (const c of chunks) assert.deepEqual(Buffer.from(await s.get(sha(c))), c);
    assert.equal((await s.has(chunks.map(sha))).size, 300);
    await s.close();
  });
});

test('PackChunkStore: concurrent puts of one chunk store it once', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const c = randomBytes(10_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => s.put(sha(c), c)));
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(s.stats.records, 1);
    await s.close();
  });
});

test('PackChunkStore: an upload frame given with a chunk is stored as is and handed out as is', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const text = Buffer.from('the same words again and again '.repeat(2000));
    // A frame at level 19 differs from what the store makes at level 1: its size shows which was kept.
    const frame = zstdCompressSync(text, { params: { [constants.ZSTD_c_compressionLevel]: 19 } });
    assert.equal((await s.put(sha(text), text, { zstd: frame })).storedSize, frame.length);
    const random = randomBytes(5000);
    const useless = zstdCompressSync(random); // bigger than the data: the raw bytes are kept
    assert.equal((await s.put(sha(random), random, { zstd: useless })).storedSize, random.length);
    // getStored hands out the stored form for passing on: the kept frame, or the raw bytes.
    assert.deepEqual(await s.getStored(sha(text)), { zstd: true, body: frame });
    assert.deepEqual(await s.getStored(sha(random)), { zstd: false, body: random });
    await s.close();
    const again = new PackChunkStore(dir);
    assert.deepEqual(Buffer.from(await again.get(sha(text))), text);
    assert.deepEqual(Buffer.from(await again.get(sha(random))), random);
    await again.close();
  });
});

test('PackChunkStore: a chunk is not visible before its put resolves', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    await s.has([]); // open
    const c = randomBytes(50_000);
    let acknowledged = false;
    const put = s.put(sha(c), c).then(() => (acknowledged = true));
    // Poll while the put runs: every time has() sees the chunk, its batch has been fsynced and
    // indexed, so the put must be resolving in the same turn.
    while (!acknowledged) {
      await new Promise((r) => setImmediate(r));
      const seen = (await s.has([sha(c)])).size === 1;
      if (seen) {
        await Promise.resolve();
        await put;
        break;
      }
    }
    assert.equal((await s.has([sha(c)])).size, 1);
    await s.close();
  });
});

test('PackChunkStore: reopen sees everything, across rolled packs; deletes stay deleted', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir, { packSize: 32 * 1024 });
    const chunks = Array.from({ length: 40 }, () => randomBytes(5000));
    for (const c of chunks) await s.put(sha(c), c);
    await s.delete(sha(chunks[39])); // the last record of the last pack
    await s.close();
    assert.ok((await packFiles(dir)).length > 3, 'packs roll at packSize');

    const again = new PackChunkStore(dir, { packSize: 32 * 1024 });
    assert.deepEqual((await listAll(again)).sort(), chunks.slice(0, 39).map(sha).sort());
    for (const c of chunks.slice(0, 39)) assert.deepEqual(Buffer.from(await again.get(sha(c))), c);
    assert.equal((await again.put(sha(chunks[0]), chunks[0])).created, false);
    await again.close();
  });
});

test('PackChunkStore: a torn tail from a crash is cut off on open and never served', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const good = Array.from({ length: 5 }, () => randomBytes(3000));
    for (const c of good) await s.put(sha(c), c);
    await s.close();
    const [pack] = await packFiles(dir);
    const path = join(dir, 'packs', pack);
    const sizeBefore = (await stat(path)).size;

    // A crash mid-append: a complete header and half its body.
    const torn = randomBytes(4000);
    const header = writeRecordHeader({
      flags: 0,
      size: 4000,
      storedSize: 4000,
      hash: Buffer.from(sha(torn), 'hex'),
    });
    await appendFile(path, Buffer.concat([header, torn.subarray(0, 1500)]));

    const again = new PackChunkStore(dir);
    assert.deepEqual((await listAll(again)).sort(), good.map(sha).sort());
    assert.equal((await again.has([sha(torn)])).size, 0);
    assert.equal((await stat(path)).size, sizeBefore, 'the torn tail is truncated');
    const next = randomBytes(2000);
    await again.put(sha(next), next);
    await again.close();

    const third = new PackChunkStore(dir);
    assert.deepEqual(Buffer.from(await third.get(sha(next))), next);
    assert.equal((await listAll(third)).length, 6);
    await third.close();
  });
});

test('PackChunkStore: records written before a lost index commit are re-indexed from the pack', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const chunks = Array.from({ length: 10 }, (_, i) =>
      i % 2 ? randomBytes(3000) : Buffer.from(`compressible ${i} `.repeat(300)),
    );
    for (const c of chunks) await s.put(sha(c), c);
    await s.close();
    // Lose the whole index (the extreme case of an index commit that did not survive).
    for (const f of await readdir(dir)) if (f.startsWith('index.db')) await rm(join(dir, f));

    const again = new PackChunkStore(dir);
    assert.deepEqual((await listAll(again)).sort(), chunks.map(sha).sort());
    for (const c of chunks) assert.deepEqual(Buffer.from(await again.get(sha(c))), c);
    await again.close();
  });
});

test('PackChunkStore: a pack torn while being created is repaired; a corrupt record is refused', async () => {
  await withDir(async (dir) => {
    const { c, pack } = await storeOneAndClose(dir);
    await writeFile(join(dir, 'packs', '00000099.pack'), 'FERR'); // torn header

    // Flip a byte of the stored body: get must refuse it rather than serve wrong bytes.
    const path = join(dir, 'packs', pack);
    const bytes = await readFile(path);
    bytes[8 + RECORD_HEADER_SIZE + 10] ^= 0xff;
    await writeFile(path, bytes);

    const again = new PackChunkStore(dir);
    await assert.rejects(again.get(sha(c)), { code: 'HASH_MISMATCH' });
    const d = randomBytes(700);
    await again.put(sha(d), d);
    assert.deepEqual(Buffer.from(await again.get(sha(d))), d);
    await again.close();
    // The torn pack was made an empty valid pack, and new records were appended to it.
    assert.ok((await stat(join(dir, 'packs', '00000099.pack'))).size > 8);
  });
});

test('PackChunkStore: a truncated pack (lost tail) fails reads with HASH_MISMATCH, not wrong bytes', async () => {
  await withDir(async (dir) => {
    const { c, pack } = await storeOneAndClose(dir);
    await truncate(join(dir, 'packs', pack), 100);
    const again = new PackChunkStore(dir);
    await assert.rejects(again.get(sha(c)), { code: 'HASH_MISMATCH' });
    await again.close();
  });
});

test('PackChunkStore: a failed fsync fails its batch; the store goes on in a new pack and loses nothing acknowledged', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const first = randomBytes(5000);
    await s.put(sha(first), first);
    // Fault injection: the next fdatasync fails, once (FileHandle's prototype, restored below). The
    // pack exists already, so that is the fsync of the next batch.
    let calls = 0;
    const restore = await hookDatasync(dir, (real) =>
      ++calls === 1
        ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
        : real(),
    );
    const chunks: Buffer[] = [];
    const results: PromiseSettledResult<unknown>[] = [];
    const wave = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => randomBytes(3000 + chunks.length + i));
      chunks.push(...batch);
      results.push(...(await Promise.allSettled(batch.map((c) => s.put(sha(c), c)))));
    };
    try {
      await wave(10); // its batch's fsync fails (a second batch of it, if any, goes to a new pack)
      await wave(10); // after the failure: a new pack
    } finally {
      restore();
    }
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.ok(failed > 0, 'the batch whose fsync failed was refused');
    assert.ok(
      results.slice(10).every((r) => r.status === 'fulfilled'),
      'batches after the failure went to a new pack',
    );
    const acknowledged = chunks.filter((_, i) => results[i].status === 'fulfilled');
    const after = randomBytes(7000);
    await s.put(sha(after), after);
    assert.ok((await packFiles(dir)).length >= 2, 'the failed pack is not appended to again');
    await s.close();

    const again = new PackChunkStore(dir);
    for (const c of [first, ...acknowledged, after])
      assert.deepEqual(Buffer.from(await again.get(sha(c))), c);
    await again.close();
  });
});

test('PackChunkStore: a put that arrives while the last batch is being fsynced is written too (none is left in the queue)', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const first = randomBytes(3000);
    const second = randomBytes(4000);
    const third = randomBytes(5000);
    await s.put(sha(first), first); // the pack is made (and fsynced) before the hook goes in
    let late: Promise<unknown> | undefined;
    // Hook: the first fdatasync from here on starts the second put and takes 50 ms more, so that the
    // put is queued while the syncer waits for that fsync.
    const restore = await hookDatasync(dir, async (real) => {
      await real();
      if (late) return;
      late = s.put(sha(second), second);
      await new Promise((r) => setTimeout(r, 50));
    });
    try {
      await s.put(sha(third), third);
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('the late put never resolved: left in the queue')), 10_000);
      });
      await Promise.race([late, stuck]).finally(() => clearTimeout(timer));
    } finally {
      restore();
    }
    for (const c of [first, second, third]) assert.deepEqual(Buffer.from(await s.get(sha(c))), c);
    await s.close();
  });
});

/** A promise that stays pending until open() is called. */
function gate(): { shut: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const shut = new Promise<void>((resolve) => (open = resolve));
  return { shut, open };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 2)))
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting until ${what}`);
}

test('PackChunkStore: writing does not wait for an fsync; a put lets go of its bytes once written and resolves after its fsync', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const first = randomBytes(3000);
    await s.put(sha(first), first); // the pack exists before the hook goes in
    const fsyncs = gate();
    const restore = await hookDatasync(dir, async (real) => {
      await fsyncs.shut;
      await real();
    });
    try {
      const [a, b] = [randomBytes(4000), randomBytes(5000)];
      const released = { a: false, b: false };
      const settled = { a: false, b: false };
      const pa = s.put(sha(a), a, { released: () => (released.a = true) }).finally(() => (settled.a = true));
      await until('a is written', () => released.a);
      // a's fsync is now held at the gate: b is written all the same, while it waits.
      const pb = s.put(sha(b), b, { released: () => (released.b = true) }).finally(() => (settled.b = true));
      await until('b is written during the fsync of a', () => released.b);
      assert.deepEqual(settled, { a: false, b: false }, 'no put resolves before its fsync');
      assert.equal((await s.has([sha(a), sha(b)])).size, 0, 'nothing is visible before its fsync');
      fsyncs.open();
      await Promise.all([pa, pb]);
      assert.equal((await s.has([sha(a), sha(b)])).size, 2);
      assert.deepEqual(Buffer.from(await s.get(sha(b))), b);
    } finally {
      restore();
      fsyncs.open();
      await s.close();
    }
  });
});

test('PackChunkStore: a failed fsync also refuses what was written to that pack while it ran; later puts go to a new pack', async () => {
  await withDir(async (dir) => {
    const s = new PackChunkStore(dir);
    const first = randomBytes(3000);
    await s.put(sha(first), first);
    const fsyncs = gate();
    let calls = 0;
    const restore = await hookDatasync(dir, async (real) => {
      if (++calls > 1) return real();
      await fsyncs.shut;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    try {
      const [a, b, c] = [randomBytes(4000), randomBytes(5000), randomBytes(6000)];
      let writtenA = false;
      let writtenB = false;
      const pa = s.put(sha(a), a, { released: () => (writtenA = true) });
      await until('a is written', () => writtenA);
      const pb = s.put(sha(b), b, { released: () => (writtenB = true) });
      await until('b is written into the same pack', () => writtenB);
      fsyncs.open();
      const [ra, rb] = await Promise.allSettled([pa, pb]);
      assert.equal(ra.status, 'rejected', 'the batch whose fsync failed is refused');
      assert.equal(rb.status, 'rejected', 'so is a record written to that pack while the fsync ran');
      await s.put(sha(c), c);
      assert.equal((await packFiles(dir)).length, 2, 'c went to a new pack');
      assert.deepEqual(Buffer.from(await s.get(sha(c))), c);
    } finally {
      restore();
      fsyncs.open();
      await s.close();
    }
    const again = new PackChunkStore(dir);
    assert.deepEqual(Buffer.from(await again.get(sha(first))), first);
    await again.close();
  });
});
