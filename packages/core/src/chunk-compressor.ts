// zstd for chunks (at rest, and on the wire of the sync protocol), tuned for many small buffers.
// Node only (node:zlib): the browser never imports it. One-shot zstdCompress() builds a fresh
// compression context per call and costs ~0.7 ms of main-thread time per 32 KiB chunk; here a few
// long-lived streams each compress one chunk at a time. Every write ends its frame (the stream's
// flush mode is ZSTD_e_end), so every output is a standalone frame that zstdDecompress() reads, and
// because the frame's whole input arrives in that one call, zstd records its size in the frame
// header, which sizes the reader's output buffer (frameContentSize). Chunks that look
// incompressible (byte entropy of a sample near 8 bits) skip zstd altogether.

import { constants, createZstdCompress, zstdDecompressSync, type ZstdCompress } from 'node:zlib';

/** Output buffer without a size to go by: one piece for any chunk up to 128 KiB (the largest cut). */
const DEFAULT_OUTPUT = 160 * 1024;

/**
 * Decompresses one chunk's zstd frame, on the calling thread. For chunks (≤ 1 MiB) this is about
 * 5× cheaper in CPU than the async zstdDecompress(), whose per-call context and 16 KiB output steps
 * each take a thread-pool round trip. Throws RangeError past `maxBytes` (a decompression bomb).
 * The output buffer is sized by `expectedSize` (the chunk's size, when the caller knows it), else
 * by the size the frame declares: with neither, every chunk costs a 160 KiB buffer, which a 32 KiB
 * chunk then keeps alive, and whose churn (by estimate ~4,700 frames × 160 KiB ≈ 750 MB for the
 * 302 MiB bench corpus) set off V8's full collections for external memory.
 */
export function decompressChunk(frame: Uint8Array, maxBytes = 1024 * 1024, expectedSize?: number): Buffer {
  // The size the frame declares is the sender's word (a few bytes claiming a megabyte must not
  // cost a megabyte): see trusted().
  const size = expectedSize ?? trusted(frameContentSize(frame));
  // One byte more than expected, so that a full buffer does not make zlib allocate another one.
  const chunkSize = size === undefined ? DEFAULT_OUTPUT : Math.max(64, Math.min(size, maxBytes) + 1);
  return zstdDecompressSync(frame, { chunkSize, maxOutputLength: maxBytes });
}

/** A declared size below the default, else none: the header may shrink the buffer, never grow it. */
function trusted(declared: number | undefined): number | undefined {
  return declared !== undefined && declared < DEFAULT_OUTPUT ? declared : undefined;
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The content size a zstd frame's header declares (RFC 8878 §3.1.1.1), or undefined when the frame
 * does not declare one or is not a zstd frame. A hint only: zstd itself checks the real size.
 */
export function frameContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return undefined;
  const descriptor = frame[4];
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
  if (at + fcsBytes > frame.length) return undefined;
  switch (fcsBytes) {
    case 1:
      return frame[at];
    case 2:
      return view.getUint16(at, true) + 256;
    case 4:
      return view.getUint32(at, true);
    default: {
      const n = view.getBigUint64(at, true);
      return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
    }
  }
}

class Lane {
  #stream: ZstdCompress | undefined;
  #out: Buffer[] = [];
  #tail: Promise<unknown> = Promise.resolve();
  pending = 0;

  #open(): ZstdCompress {
    if (this.#stream) return this.#stream;
    const s = createZstdCompress({
      params: { [constants.ZSTD_c_compressionLevel]: 1 },
      chunkSize: DEFAULT_OUTPUT, // one output piece for any chunk
      flush: constants.ZSTD_e_end, // each write is one whole frame
    });
    s.on('data', (d: Buffer) => this.#out.push(d));
    s.on('error', () => {
      if (this.#stream === s) this.#stream = undefined;
    });
    return (this.#stream = s);
  }

  compress(data: Uint8Array): Promise<Buffer> {
    this.pending++;
    const run = async () => {
      const s = this.#open();
      this.#out = [];
      try {
        // The frame's output is pushed (and collected by the 'data' listener) before the write's
        // callback runs.
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.write(data, (e) => {
            s.off('error', reject);
            if (e) reject(e);
            else resolve();
          });
        });
        return this.#out.length === 1 ? this.#out[0] : Buffer.concat(this.#out);
      } catch (e) {
        this.#stream = undefined;
        s.destroy();
        throw e;
      } finally {
        this.#out = [];
        this.pending--;
      }
    };
    const p = this.#tail.then(run, run);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.#stream?.destroy();
    this.#stream = undefined;
  }
}

/** Compresses on `lanes` reused zstd contexts (each runs on libuv's thread pool). */
export class ChunkCompressor {
  readonly #lanes: Lane[];

  constructor(lanes = 2) {
    this.#lanes = Array.from({ length: lanes }, () => new Lane());
  }

  /** One zstd frame holding `data`. */
  compress(data: Uint8Array): Promise<Buffer> {
    let lane = this.#lanes[0];
    for (const l of this.#lanes) if (l.pending < lane.pending) lane = l;
    return lane.compress(data);
  }

  close(): void {
    for (const l of this.#lanes) l.close();
  }
}
