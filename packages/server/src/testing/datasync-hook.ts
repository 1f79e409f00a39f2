// Fault injection for FileHandle.datasync() (the pack store's fsync): tests fail or delay it, the
// foundation bench slows it down as a slow disk would. Test and bench only.

import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Replaces FileHandle.prototype.datasync until the returned restore() is called. */
export async function hookDatasync(
  dir: string,
  hook: (real: () => Promise<void>) => Promise<void>,
): Promise<() => void> {
  // FileHandle is not exported: its prototype comes from a handle.
  const probe = await open(join(dir, 'datasync-probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync(this: FileHandle): Promise<void> };
  await probe.close();
  const real = proto.datasync; // eslint-disable-line @typescript-eslint/unbound-method
  proto.datasync = function (this: FileHandle) {
    return hook(() => real.call(this));
  };
  return () => (proto.datasync = real);
}
