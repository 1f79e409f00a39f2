// Foundation benchmark (issue 2): chunk + hash throughput on one core, upload of the 302 MiB mixed
// corpus through POST /api/v1/files/upload with keep-alive, the server's peak RSS during it, and
// rsync over loopback on the same corpus as the reference.
//
//   npm exec -- node bench/foundation-bench.ts [--concurrency 8]

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Chunker } from '../packages/core/src/fastcdc.ts';
import { corpusPlan, randomStream, writeCorpus } from './corpus.ts';
import { fmt, machineLoad, printTable, rsyncLoopback, startChildServer, writeResult } from './lib.ts';

const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '8' } } });
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

const dir = await mkdtemp(join(tmpdir(), 'ferry-corpus-'));
const plan = corpusPlan();
const totalBytes = plan.reduce((n, f) => n + f.size, 0);
await writeCorpus(dir, plan);

const load = await machineLoad();
const server = await startChildServer(
  process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {},
);
let uploadSeconds: number;
let peakRss: number;
let serverCpu: number;
let clientCpu: number;
const idleRss = await server.rss();
// The client is plain node:http streaming each file from disk, as curl would: fetch with a web
// stream body cost about as much CPU as the server itself, on the same two cores.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
async function postFile(url: string, file: string, size: number): Promise<{ status: number; body: string }> {
  const req = http.request(url, {
    method: 'POST',
    agent,
    headers: { authorization: `Bearer ${server.token}`, 'content-length': String(size) },
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
}
try {
  const queue = [...plan];
  const cpu0 = await server.cpuSeconds();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const { status, body } = await postFile(
          `${server.url}/api/v1/files/upload?path=${encodeURIComponent(f.path)}`,
          join(dir, f.path),
          f.size,
        );
        if (status !== 200) throw new Error(`upload ${f.path}: ${status} ${body}`);
      }
    }),
  );
  uploadSeconds = (performance.now() - t0) / 1000;
  serverCpu = (await server.cpuSeconds()) - cpu0;
  const c = process.cpuUsage(client0);
  clientCpu = (c.user + c.system) / 1e6;
  peakRss = await server.peakRss();
} finally {
  agent.destroy();
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
  ['server CPU during upload (user+sys)', fmt.s(serverCpu), '', `client ${fmt.s(clientCpu)}`],
  ['server peak RSS during upload', fmt.mib(peakRss), '≤ 120 MiB', `idle ${fmt.mib(idleRss)}`],
]);
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
  clientCpuSeconds: clientCpu,
  load1AtStart: load.load1,
  cores: load.cores,
  concurrency,
});
console.log(`\nwrote ${file}`);
