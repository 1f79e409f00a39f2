// Profiles one sync of a bench workload: device A → server, then B, each process under --cpu-prof,
// and prints what each was busy with over time and where its CPU went. Not a benchmark (the
// profiler costs 10–20%); it is how the figures in docs/decisions.md were found.
//
//   npm exec -- node bench/profile-sync.ts [mixed|small] [--top N] [--keep]
//
// mixed: the 302 MiB corpus; small: 5,000 files of 4 KB. Profiles go to a temp folder whose path is
// printed; open them in Chrome DevTools (Performance → load profile) for the whole picture.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { corpusPlan, writeCorpus, writeSmallFiles } from './corpus.ts';
import { startChildServer } from './lib.ts';
import { BenchDevice, createSpace } from './sync-lib.ts';

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '20' }, keep: { type: 'boolean', default: false } },
});
const workload = positionals[0] ?? 'mixed';
if (workload !== 'mixed' && workload !== 'small') throw new Error('workload: mixed or small');
const top = Number(values.top);

const out = await mkdtemp(join(tmpdir(), 'ferry-profile-'));
const work = join(out, 'work');
const cpuProf = (name: string) => `--cpu-prof --cpu-prof-dir=${join(out, name)}`;
const server = await startChildServer({ NODE_OPTIONS: cpuProf('server') });
const A = await BenchDevice.login('A', server.url, 'admin', 'bench-password');
const B = await BenchDevice.login('B', server.url, 'admin', 'bench-password');
try {
  await createSpace(server, 'profile');
  const [ra, rb] = [join(work, 'a'), join(work, 'b')];
  await A.ok('init', ra, '--space', 'profile');
  await B.ok('init', rb, '--space', 'profile');
  if (workload === 'mixed') await writeCorpus(ra, corpusPlan());
  else await writeSmallFiles(ra);
  spawnSync('sync'); // as the bench does: the corpus is on disk before anything is timed
  for (const [name, device, root] of [
    ['A', A, ra],
    ['B', B, rb],
  ] as const) {
    device.extraEnv = { NODE_OPTIONS: cpuProf(name) };
    const r = await device.ok('sync', root, '--json');
    const phases = (JSON.parse(r.stdout) as { phases?: Record<string, number> }).phases;
    console.log(`${name}: ${r.seconds.toFixed(2)} s, phases (ms) ${JSON.stringify(phases)}`);
  }
} finally {
  await A.dispose();
  await B.dispose();
  await server.stop(); // the server writes its profile as it exits
}

/** The profile of the process that did the work: the biggest file (the server re-executes itself). */
async function load(name: string): Promise<CpuProfile> {
  const dir = join(out, name);
  const files = await readdir(dir);
  const sized = await Promise.all(
    files.map(async (f) => ({ f, text: await readFile(join(dir, f), 'utf8') })),
  );
  sized.sort((x, y) => y.text.length - x.text.length);
  return JSON.parse(sized[0].text) as CpuProfile;
}
const profiles = { A: await load('A'), server: await load('server'), B: await load('B') };

// 1. Busy milliseconds per 250 ms, side by side, from A's start to B's end.
const BUCKET = 250_000; // µs
const t0 = profiles.A.startTime;
const busy = Object.entries(profiles).map(([name, p]) => {
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const by = new Map<number, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i];
    if (!idle.has(id) && t >= t0) {
      const b = Math.floor((t - t0) / BUCKET);
      by.set(b, (by.get(b) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
    }
  });
  return { name, by };
});
const end = Math.floor((profiles.B.endTime - t0) / BUCKET);
console.log(
  `\nbusy ms per 250 ms (event loop, not thread pool or kernel)\n     s ${busy.map((b) => b.name.padStart(7)).join('')}`,
);
for (let b = 0; b <= end; b++)
  console.log(
    `${((b * BUCKET) / 1e6).toFixed(2).padStart(6)} ${busy.map((x) => String(Math.round((x.by.get(b) ?? 0) / 1000)).padStart(7)).join('')}`,
  );

// 2. Self and inclusive time by function, for each process over its whole run.
for (const [name, p] of Object.entries(profiles)) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(key(id), (self.get(key(id)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(cur);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, us]) => `  ${String(Math.round(us / 1000)).padStart(7)} ms  ${k}`)
      .join('\n');
  console.log(`\n${name}: self time\n${list(self)}\n${name}: inclusive time\n${list(incl)}`);
}

if (values.keep) console.log(`\nprofiles and trees kept in ${out}`);
else await rm(out, { recursive: true, force: true });
