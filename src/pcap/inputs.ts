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
  } = {},
): Promise<void> {
  for (let i = 0; i < inputs.length; i++) {
    const name = inputs[i]!;
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
