// Scale benchmark: does a sync commit cost the same in a space that already holds many files?
// Fills one space with --files new 4 KB files (default 100,000) in sync commits of 1,000, as a
// device's first sync would, and compares the first commits (a nearly empty space) with the last
// (a full one). A commit inserts rows into indexes keyed by ids; with random ids each row dirtied a
// random page of each index, so commits slowed down as the space grew (docs/decisions.md, v7 ids).
//
//   npm exec -- node bench/scale-bench.ts [--files 100000]

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { uuid7 } from '../packages/core/src/uuid7.ts';
import { frameBody } from '../packages/server/src/sync/sync-test-kit.ts';
import { sha256Hex } from '../packages/server/src/store/chunks/chunk-codec.ts';
import { fmt, machineLoad, printTable, startChildServer, writeResult } from './lib.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '100000' } } });
const BATCH = 1000;
const files = Math.max(10 * BATCH, Math.ceil(Number(values.files) / BATCH) * BATCH);
const SAMPLE = 5; // commits averaged at each end

const load = await machineLoad();
const server = await startChildServer();
const auth = { authorization: `Bearer ${server.token}` };
try {
  // 1,000 distinct 4 KB chunks, uploaded once; every file is one of them (dedup keeps this small).
  const chunks = Array.from({ length: BATCH }, () => {
    const data = randomBytes(4096);
    return { data, hash: sha256Hex(data) };
  });
  const up = await fetch(`${server.url}/api/v1/chunks`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-ferry-chunks' },
    body: new Uint8Array(frameBody(chunks)),
  });
  if (up.status !== 200) throw new Error(`chunk upload: ${up.status} ${await up.text()}`);

  const seconds: number[] = [];
  const rssAt: number[] = [];
  for (let first = 0; first < files; first += BATCH) {
    const changes = chunks.map((c, k) => ({
      opId: uuid7(),
      path: `/scale/d${(first + k) % 97}/f${first + k}.bin`,
      kind: 'file',
      baseVersionId: null,
      mtime: 1,
      size: 4096,
      contentHash: c.hash,
      chunks: [{ hash: c.hash, size: 4096 }],
    }));
    const t0 = performance.now();
    const res = await fetch(`${server.url}/api/v1/spaces/default/commit`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ changes, echo: true }),
    });
    const text = await res.text();
    seconds.push((performance.now() - t0) / 1000);
    if (res.status !== 200) throw new Error(`commit: ${res.status} ${text.slice(0, 300)}`);
    if (seconds.length % 20 === 0) {
      rssAt.push(await server.rss());
      console.log(`[scale-bench] ${first + BATCH} files, last commit ${fmt.s(seconds.at(-1)!)}`);
    }
  }

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(seconds.slice(1, 1 + SAMPLE)); // the very first commit also warms the JIT
  const late = mean(seconds.slice(-SAMPLE));
  const perFile = (s: number) => `${((s / BATCH) * 1e6).toFixed(0)} µs`;
  console.log(
    `\nFerry scale bench — ${files.toLocaleString('en')} files, commits of ${BATCH}, ${load.cores} CPUs, load average ${load.load1.toFixed(1)}`,
  );
  printTable('Sync commit of 1,000 new files', [
    ['space holds', 'commit', 'per file'],
    [
      `${BATCH.toLocaleString('en')}–${((SAMPLE + 1) * BATCH).toLocaleString('en')} files`,
      fmt.s(early),
      perFile(early),
    ],
    [`${(files - SAMPLE * BATCH).toLocaleString('en')}+ files`, fmt.s(late), perFile(late)],
    ['full / empty', `${(late / early).toFixed(2)}×`, ''],
  ]);
  const peak = await server.peakRss();
  console.log(`  server RSS at the end: ${fmt.mib(await server.rss())}, peak ${fmt.mib(peak)}`);
  const file = await writeResult('scale', {
    files,
    batch: BATCH,
    load,
    commitSeconds: { early, late, all: seconds },
    serverRss: { samples: rssAt, peak },
  });
  console.log(`\nwrote ${file}`);
} finally {
  await server.stop();
}
