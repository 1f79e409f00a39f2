// One sync pass at a time per root, across processes: `.ferry/lock` holds the owner's pid. A lock
// whose process is gone (killed with -9) is stale and taken over; a live one makes us wait.

import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_DIR } from './ignore-rules.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireRootLock(root: string, timeoutMs = 120_000): Promise<() => Promise<void>> {
  const file = join(root, STATE_DIR, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(file).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (!pid || (!alive(pid) && pid !== process.pid)) {
      await unlink(file).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another ferry process (pid ${pid}) is syncing ${root}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
