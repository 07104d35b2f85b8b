// Fingerprint collision rate: distinct packet identities (the exact words the
// fingerprint hashes) against distinct 64-bit fingerprints on a large mixed
// capture; the 32-bit halves alone show the measurement can see collisions.
import { Decoded, decode, lastIdentityWords, PcapReader } from '../../src/pcap/index.js';

export interface CollisionResult {
  packets: number;
  distinctIdentities: number;
  collisions64: number;
  /** Collisions of each 32-bit half alone (lane A, lane B). */
  collisions32: number;
  collisions32b?: number;
  expected32: number;
}

export function collisionRate(file: string, limit = 1_000_000): CollisionResult {
  const r = PcapReader.openFile(file);
  const d = new Decoded();
  const identities = new Map<string, string>();
  let packets = 0;
  try {
    while (packets < limit && r.next()) {
      decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
      identities.set(lastIdentityWords().join(','), `${d.fpHi}:${d.fpLo}`);
      packets++;
    }
  } finally {
    r.close();
  }
  const by64 = new Set<string>();
  const by32 = new Set<number>();
  const by32b = new Set<number>();
  for (const fp of identities.values()) {
    by64.add(fp);
    by32.add(Number(fp.split(':')[0]));
    by32b.add(Number(fp.split(':')[1]));
  }
  const n = identities.size;
  return {
    packets,
    distinctIdentities: n,
    collisions64: n - by64.size,
    collisions32: n - by32.size,
    collisions32b: n - by32b.size,
    expected32: n - 2 ** 32 * (1 - Math.exp(-n / 2 ** 32)),
  };
}
