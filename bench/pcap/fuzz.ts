// Mutation fuzzing of the reader and decoders: seeds (valid captures of every
// block kind and the malformed corpus) mutated and fed in random chunks. A
// run passes when every input either reads cleanly or throws PcapFormatError
// naming a byte offset: no other exception, no hang (the run ends).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoded, decode, PcapFormatError, PcapReader, summarize, toJson } from '../../src/pcap/index.js';
import { malformedCorpus, validSeeds } from '../../test/helpers/corpus.js';
import { generateCapture, Xorshift } from './generate.js';

export interface FuzzResult {
  inputs: number;
  clean: number;
  formatErrors: number;
  crashes: number;
  slowestMs: number;
  firstCrash: string | undefined;
}

const INTERESTING = [
  0,
  1,
  4,
  11,
  12,
  16,
  20,
  24,
  28,
  0x7fffffff,
  0xffffffff,
  0x0a0d0d0a,
  0x1a2b3c4d,
  0xa1b2c3d4,
  262144,
  262145,
  16 * 1024 * 1024 + 4,
];

function mutate(seed: Buffer, other: Buffer, r: Xorshift): Buffer {
  let b = Buffer.from(seed);
  const ops = 1 + r.below(8);
  for (let k = 0; k < ops && b.length > 0; k++) {
    const at = r.below(b.length);
    // Half the mutations flip packet bytes only (the structure stays and the decoders get the input).
    switch (r.below(2) === 0 ? 0 : r.below(7)) {
      case 0:
        b[at] = r.below(256);
        break;
      case 1:
        if (at + 4 <= b.length) b.writeUInt32LE(INTERESTING[r.below(INTERESTING.length)]! >>> 0, at);
        break;
      case 2:
        if (at + 4 <= b.length) b.writeUInt32BE(INTERESTING[r.below(INTERESTING.length)]! >>> 0, at);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4: {
        const len = Math.min(b.length - at, 1 + r.below(64));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5: {
        const len = Math.min(b.length - at, 1 + r.below(64));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, at), other.subarray(r.below(Math.max(1, other.length)))]);
    }
  }
  return b;
}

const d = new Decoded();
function consume(r: PcapReader): void {
  decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
  summarize(d, r.origLen, true);
  toJson(d, r.origLen);
  r.comments();
}

export function runFuzz(inputs: number, seedValue = 0x5eed): FuzzResult {
  const dir = mkdtempSync(join(tmpdir(), 'hopdump-fuzz-'));
  const gen = join(dir, 'gen.pcap');
  const genNg = join(dir, 'gen.pcapng');
  generateCapture(gen, { packets: 40, flows: 8 });
  generateCapture(genNg, { packets: 40, flows: 8, format: 'pcapng' });
  const seeds = [...validSeeds(), ...malformedCorpus().map((c) => c.bytes), readFileSync(gen), readFileSync(genNg)];
  const r = new Xorshift(seedValue);
  const result: FuzzResult = { inputs, clean: 0, formatErrors: 0, crashes: 0, slowestMs: 0, firstCrash: undefined };
  const file = join(dir, 'input.cap');
  try {
    for (let i = 0; i < inputs; i++) {
      const bytes = mutate(seeds[r.below(seeds.length)]!, seeds[r.below(seeds.length)]!, r);
      const fileMode = i % 20 === 0;
      const chunk = 1 + r.below(r.below(4) === 0 ? 16 : 4096);
      const t0 = performance.now();
      try {
        if (fileMode) {
          writeFileSync(file, bytes);
          const reader = PcapReader.openFile(file, { chunkSize: 64 + r.below(4096) });
          try {
            while (reader.next()) consume(reader);
            reader.end(true);
          } finally {
            reader.close();
          }
        } else {
          const reader = new PcapReader('fuzz');
          for (let o = 0; o < bytes.length; o += chunk) {
            reader.feed(bytes.subarray(o, o + chunk));
            while (reader.next()) consume(reader);
          }
          reader.finish();
          while (reader.next()) consume(reader);
          reader.end(true);
        }
        result.clean++;
      } catch (err) {
        if (err instanceof PcapFormatError && /at byte \d+$/.test(err.message)) result.formatErrors++;
        else {
          result.crashes++;
          result.firstCrash ??= `${(err as Error).stack ?? String(err)}\ninput (base64): ${bytes.toString('base64')}`;
        }
      }
      result.slowestMs = Math.max(result.slowestMs, performance.now() - t0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
