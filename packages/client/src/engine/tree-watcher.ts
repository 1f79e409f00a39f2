// Recursive file-system watcher for a sync root (fs.watch recursive: inotify on Linux, FSEvents on
// macOS). Events are coalesced with a short debounce; the engine rescans rather than trusting the
// event details, and a periodic full rescan covers anything a watcher can miss.

import { watch, type FSWatcher } from 'node:fs';
import { STATE_DIR } from './ignore-rules.ts';

export interface TreeWatcherOptions {
  debounceMs?: number;
  onChange: () => void;
  onError?: (e: Error) => void;
}

export class TreeWatcher {
  readonly #root: string;
  readonly #o: TreeWatcherOptions;
  #w: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(root: string, o: TreeWatcherOptions) {
    this.#root = root;
    this.#o = o;
  }

  start(): void {
    this.stop();
    try {
      this.#w = watch(this.#root, { recursive: true, persistent: true }, (_ev, name) => {
        const n = typeof name === 'string' ? name : '';
        if (n === STATE_DIR || n.startsWith(STATE_DIR + '/') || n.endsWith('.ferry-tmp')) return;
        this.#bump();
      });
      this.#w.on('error', (e) => {
        this.stop();
        this.#o.onError?.(e);
      });
    } catch (e) {
      this.#o.onError?.(e as Error);
    }
  }

  get active(): boolean {
    return this.#w !== null;
  }

  #bump(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#o.onChange();
    }, this.#o.debounceMs ?? 25);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#w?.close();
    this.#w = null;
  }
}
