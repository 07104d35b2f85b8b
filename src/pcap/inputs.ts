import { PcapReader, readStream } from './reader.js';

/**
 * Runs `onPacket` for every packet of every input in order: files read
 * synchronously with one reused buffer (the fast path), `-` read from stdin
 * as a stream with backpressure. `onInput` is told when an input starts.
 * Errors (a missing file, a malformed capture) propagate: PcapFormatError
 * names the byte offset, fs errors keep their code.
 */
export async function forEachPacket(
  inputs: string[],
  onPacket: (r: PcapReader, input: number) => void | boolean,
  options: {
    onInput?: (r: PcapReader, input: number) => void;
    stdin?: NodeJS.ReadableStream;
    /** Asked every 4096 packets: a promise to wait on (a consumer's output pipe draining), or null. */
    pause?: () => Promise<void> | null;
    /** Stream inputs: after each chunk's packets (a live consumer flushes its output here). */
    onChunk?: () => void;
    /**
     * Read `-` with blocking reads of up to 1 MiB on fd 0 rather than as a Node stream: much
     * less per-chunk overhead on a fast pipe (tcpdump at 100k packets/s), but nothing else
     * runs meanwhile — for consumers that print only at the end (--stats).
     */
    syncStdin?: boolean;
  } = {},
): Promise<void> {
  for (let i = 0; i < inputs.length; i++) {
    const name = inputs[i]!;
    if (name === '-' && options.syncStdin && !options.stdin) {
      const r = PcapReader.fromFd(0, 'stdin');
      options.onInput?.(r, i);
      let first = true;
      try {
        while (r.next()) {
          first = false;
          if (onPacket(r, i) === false) return;
        }
        r.end(true);
        continue;
      } catch (err) {
        // A non-blocking stdin (set so by whoever started us): fall back to the stream path.
        if (!(first && (err as NodeJS.ErrnoException).code === 'EAGAIN')) throw err;
      }
    }
    if (name === '-') {
      const r = new PcapReader('stdin');
      options.onInput?.(r, i);
      let stop = false;
      await readStream(
        options.stdin ?? process.stdin,
        r,
        (rr) => {
          if (!stop && onPacket(rr, i) === false) stop = true;
        },
        options.onChunk ? { onChunk: options.onChunk } : {},
      );
      if (stop) return;
      continue;
    }
    const r = PcapReader.openFile(name);
    options.onInput?.(r, i);
    try {
      let n = 0;
      const pause = options.pause;
      while (r.next()) {
        if (onPacket(r, i) === false) return;
        if (pause && (++n & 4095) === 0) {
          const wait = pause();
          if (wait) await wait;
        }
      }
      r.end(true);
    } finally {
      r.close();
    }
  }
}
