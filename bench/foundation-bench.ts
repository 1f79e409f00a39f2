// Foundation benchmark (issue 2): chunk + hash throughput on one core, upload of the 302 MiB mixed
// corpus through POST /api/v1/files/upload with keep-alive, the server's peak RSS during it, and
// rsync over loopback on the same corpus as the reference. Also one upload stream into the pack
// store, on this disk and with every fsync 20 ms slower.
//
//   npm exec -- node bench/foundation-bench.ts [--concurrency 8] [--client auto|curl|node]

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Chunker } from '../packages/core/src/fastcdc.ts';
import { sha256Hex } from '../packages/server/src/store/chunks/chunk-codec.ts';
import { PackChunkStore } from '../packages/server/src/store/chunks/pack-chunk-store.ts';
import { PutWindow } from '../packages/server/src/store/chunks/put-window.ts';
import { hookDatasync } from '../packages/server/src/testing/datasync-hook.ts';
import { corpusPlan, randomStream, writeCorpus } from './corpus.ts';
import {
  fmt,
  machineLoad,
  printTable,
  readThreadCpu,
  rsyncLoopback,
  runTimed,
  startChildServer,
  threadCpuDelta,
  writeResult,
  type ChildServer,
} from './lib.ts';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '8' },
    client: { type: 'string', default: 'auto' }, // auto | curl | node
  },
});
const concurrency = Number(values.concurrency);

/** Best of three runs over 256 MiB of incompressible bytes on one core, in bytes per second. */
function throughput(work: (data: Uint8Array) => void): number {
  const data = randomStream(256 * 1024 * 1024, 42);
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    work(data);
    best = Math.max(best, data.length / ((performance.now() - t0) / 1000));
  }
  return best;
}

const chunkThroughput = (withFileHash: boolean) =>
  throughput((data) => {
    const chunker = new Chunker();
    const file = createHash('sha256');
    for (let off = 0; off < data.length; off += 1024 * 1024) {
      const piece = data.subarray(off, off + 1024 * 1024);
      if (withFileHash) file.update(piece);
      for (const c of chunker.push(piece)) createHash('sha256').update(c).digest();
    }
    for (const c of chunker.finish()) createHash('sha256').update(c).digest();
    file.digest();
  });

const chunkOnly = chunkThroughput(false);
const chunkAndFile = chunkThroughput(true);
// SHA-256 alone over the same bytes: this machine's ceiling for the two figures above.
const shaOnly = throughput((data) => createHash('sha256').update(data).digest());

/**
 * One upload stream into the pack store: 64 MiB of 32 KiB chunks through the 512 KiB window a sync
 * upload request keeps (a put counts until the store lets go of its bytes), every fdatasync made
 * `slowMs` slower, as on a Raspberry Pi's SD card or a network volume. Seconds.
 */
async function storeStream(slowMs: number): Promise<number> {
  const storeDir = await mkdtemp(join(tmpdir(), 'ferry-packs-'));
  const restore = await hookDatasync(storeDir, async (real) => {
    await real();
    await new Promise((r) => setTimeout(r, slowMs));
  });
  const store = new PackChunkStore(storeDir);
  try {
    const chunks = Array.from({ length: 2048 }, (_, i) => randomStream(32 * 1024, 1000 + i));
    const t0 = performance.now();
    const window = new PutWindow({ maxPuts: Number.POSITIVE_INFINITY, maxBytes: 512 * 1024 });
    const puts: Promise<unknown>[] = [];
    for (const c of chunks) {
      puts.push(
        window.hold(c.length, (released) => store.put(sha256Hex(c), c, { verified: true, released })),
      );
      await window.room();
    }
    await Promise.all(puts);
    return (performance.now() - t0) / 1000;
  } finally {
    restore();
    await store.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}
const streamFast = await storeStream(0);
const streamSlow = await storeStream(20);

const dir = await mkdtemp(join(tmpdir(), 'ferry-corpus-'));
const plan = corpusPlan();
const totalBytes = plan.reduce((n, f) => n + f.size, 0);
await writeCorpus(dir, plan);

const load = await machineLoad();
const server = await startChildServer();
let uploadSeconds: number;
let peakRss: number;
let serverCpu: number;
let clientCpu: number;
let serverThreads: string;
const idleRss = await server.rss();
// The client is curl when it is installed (one process, --parallel over keep-alive connections, as a
// script would upload), else plain node:http streaming each file from disk. Either way its CPU is
// reported: on two cores the client's work competes with the server's.
const useCurl = values.client === 'curl' || (values.client === 'auto' && (await hasCurl()));

async function hasCurl(): Promise<boolean> {
  return (await runTimed('curl', ['--version']).catch(() => null))?.code === 0;
}

/** Uploads the corpus with one `curl --parallel`; answers curl's CPU seconds. */
async function uploadWithCurl(s: ChildServer): Promise<number> {
  const quote = (v: string) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  const config = join(dir, '..', `${basename(dir)}.curl`);
  await writeFile(
    config,
    plan
      .map(
        (f) =>
          `url = ${quote(`${s.url}/api/v1/files/upload?path=${encodeURIComponent(f.path)}`)}\n` +
          `upload-file = ${quote(join(dir, f.path))}\noutput = "/dev/null"\n`,
      )
      .join(''),
  );
  // bash's `times` prints the CPU of the shell's children: curl's user and system time.
  const script = 'curl "$@"; code=$?; times >&2; exit $code';
  const r = await runTimed('bash', [
    '-c',
    script,
    'curl',
    ...['-sS', '--fail', '--parallel', '--parallel-max', String(concurrency), '--request', 'POST'],
    ...['--header', `authorization: Bearer ${s.token}`, '--header', 'Expect:', '--config', config],
    ...['--write-out', '%{http_code}\\n'],
  ]);
  await rm(config, { force: true });
  const ok = r.stdout.split('\n').filter((l) => l === '200').length;
  if (r.code !== 0 || ok !== plan.length)
    throw new Error(`curl upload: exit ${r.code}, ${ok}/${plan.length} answered 200: ${r.stderr}`);
  const times = [...r.stderr.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return (times.at(-2) ?? 0) + (times.at(-1) ?? 0);
}

/** Uploads the corpus with node:http, `concurrency` requests at a time; answers this process's CPU. */
async function uploadWithNode(s: ChildServer): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const postFile = async (url: string, file: string, size: number) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${s.token}`, 'content-length': String(size) },
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), req);
    const res = await response;
    let body = '';
    for await (const piece of res) body += String(piece);
    return { status: res.statusCode ?? 0, body };
  };
  const cpu0 = process.cpuUsage();
  const queue = [...plan];
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const { status, body } = await postFile(
            `${s.url}/api/v1/files/upload?path=${encodeURIComponent(f.path)}`,
            join(dir, f.path),
            f.size,
          );
          if (status !== 200) throw new Error(`upload ${f.path}: ${status} ${body}`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1e6;
}
try {
  const cpu0 = await server.cpuSeconds();
  const threads0 = await readThreadCpu(server.pid);
  const t0 = performance.now();
  clientCpu = useCurl ? await uploadWithCurl(server) : await uploadWithNode(server);
  uploadSeconds = (performance.now() - t0) / 1000;
  serverCpu = (await server.cpuSeconds()) - cpu0;
  serverThreads = threadCpuDelta(threads0, await readThreadCpu(server.pid));
  peakRss = await server.peakRss();
} finally {
  await server.stop();
}

const rsyncSeconds = await rsyncLoopback(dir);
await rm(dir, { recursive: true, force: true });

const MiB = 1024 * 1024;
printTable('Foundation benchmark (issue 2)', [
  ['measure', 'result', 'target', 'reference'],
  [
    'chunk + chunk hashes, 1 core',
    fmt.mbs(chunkOnly, 1),
    '≥ 500 MB/s',
    `SHA-256 alone ${fmt.mbs(shaOnly, 1)} here`,
  ],
  ['chunk + chunk hashes + file hash', fmt.mbs(chunkAndFile, 1), '', ''],
  [
    `upload ${plan.length} files, ${fmt.mib(totalBytes)} (c=${concurrency})`,
    fmt.s(uploadSeconds),
    '≤ 3 s',
    rsyncSeconds === null
      ? 'rsync missing'
      : `rsync ${fmt.s(rsyncSeconds)} (ratio ${(uploadSeconds / rsyncSeconds).toFixed(2)}×)`,
  ],
  [
    'server CPU during upload (user+sys)',
    fmt.s(serverCpu),
    '',
    `client (${useCurl ? 'curl' : 'node:http'}) ${fmt.s(clientCpu)}`,
  ],
  ['server peak RSS during upload', fmt.mib(peakRss), '≤ 120 MiB', `idle ${fmt.mib(idleRss)}`],
  [
    'one stream into the chunk store, 64 MiB',
    fmt.s(streamFast),
    '',
    `${fmt.s(streamSlow)} with fsync +20 ms`,
  ],
]);
console.log(`server CPU by thread: ${serverThreads}`);
if (load.load1 > load.cores)
  console.log(
    `\nnote: load average ${load.load1.toFixed(1)} on ${load.cores} cores — wall times are inflated`,
  );
const file = await writeResult('foundation', {
  chunkHashMBps: chunkOnly / 1e6,
  chunkHashFileHashMBps: chunkAndFile / 1e6,
  sha256MBps: shaOnly / 1e6,
  corpus: { files: plan.length, bytes: totalBytes, mib: totalBytes / MiB },
  uploadSeconds,
  rsyncSeconds,
  ratioToRsync: rsyncSeconds ? uploadSeconds / rsyncSeconds : null,
  serverPeakRssMiB: peakRss / MiB,
  serverIdleRssMiB: idleRss / MiB,
  serverCpuSeconds: serverCpu,
  serverCpuByThread: serverThreads,
  storeStreamSeconds: streamFast,
  storeStreamSlowFsyncSeconds: streamSlow,
  clientCpuSeconds: clientCpu,
  client: useCurl ? 'curl' : 'node:http',
  load1AtStart: load.load1,
  cores: load.cores,
  concurrency,
});
console.log(`\nwrote ${file}`);
