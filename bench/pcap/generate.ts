import { PcapWriter, PcapngWriter } from '../../src/pcap/writer.js';

/**
 * Synthetic captures for benchmarks and tests: an Ethernet/IPv4 mix of TCP
 * (SYNs with MSS/SACK/timestamps/wscale options, data segments with
 * timestamps), UDP, ICMP echo and ARP, wire sizes 64–1514, many flows,
 * documentation addresses only. Deterministic for a given seed.
 *
 * `hops` > 1 writes the same traffic as seen at several points of a path:
 * timestamps a few microseconds later at each hop, TTL one lower after the
 * routing hop, MACs rewritten there, an 802.1Q tag on the bridge-port hop,
 * and a share of packets lost before the last hop (so matching has
 * something to find).
 */
export interface GenerateOptions {
  packets: number;
  /** Captured bytes per packet at most (the wire length stays 64–1514). Default: whole frames. */
  snaplen?: number;
  format?: 'pcap' | 'pcapng';
  seed?: number;
  /** Packets per second of capture time (spacing of timestamps). */
  rate?: number;
  /** Number of flows (distinct 5-tuples). */
  flows?: number;
  /**
   * One stream to one host (the live bench): every packet IPv4 (no ARP), from
   * `srcMac` to `dstMac` and to `dstIp`; sources stay the flows' own, outside
   * `dstIp`'s /24. Without it, the mixed traffic of many hosts.
   */
  towards?: Towards;
}

export interface Towards {
  srcMac: string;
  dstMac: string;
  dstIp: string;
}

/** A Towards as the frame writer uses it: MACs as 6 bytes, the address as a number. */
interface TowardsBytes {
  srcMac: Buffer;
  dstMac: Buffer;
  dstIp: number;
}

function towardsBytes(t: Towards): TowardsBytes {
  const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
  const ip = t.dstIp.split('.').reduce((n, x) => n * 256 + Number(x), 0) >>> 0;
  return { srcMac: mac(t.srcMac), dstMac: mac(t.dstMac), dstIp: ip };
}

const BASE_SEC = 1_790_000_000; // 2026-09-21, any fixed instant

export class Xorshift {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

interface Flow {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  ipId: number;
  icmpSeq: number;
  macA: number;
  macB: number;
}

const NETS = [0xc0000200, 0xc6336400, 0xcb007100]; // 192.0.2.0, 198.51.100.0, 203.0.113.0

/** What hop h does to a frame: extra latency, TTL and MAC rewrite, a VLAN tag, loss. */
export interface HopView {
  latencyNs: number;
  ttlDelta: number;
  routerMacs: boolean;
  vlan?: number;
  /** Drop 1 in N packets before this hop (0: none). */
  lossOneIn: number;
}

export const FOUR_HOPS: HopView[] = [
  { latencyNs: 0, ttlDelta: 0, routerMacs: false, lossOneIn: 0 },
  { latencyNs: 7_000, ttlDelta: 1, routerMacs: true, lossOneIn: 0 },
  { latencyNs: 11_000, ttlDelta: 1, routerMacs: true, vlan: 100, lossOneIn: 0 },
  { latencyNs: 19_000, ttlDelta: 1, routerMacs: true, lossOneIn: 100 },
];

/**
 * Fills one frame of the mix into b at off; returns [captured, wire] lengths.
 * `view` changes what a hop sees. `r` draws the packet; the same draws at
 * every hop give the same packet.
 */
function frame(
  b: Buffer,
  off: number,
  snap: number,
  r: Xorshift,
  flows: Flow[],
  view: HopView,
  to?: TowardsBytes,
): [number, number] {
  // The same draws with or without `to`: it only changes what is written.
  let kind = r.below(100);
  const f = flows[r.below(flows.length)]!;
  const sizeDraw = r.below(100);
  let forward = (r.next() & 1) === 0;
  if (to) {
    if (kind < 5) kind += 5; // no ARP: TCP instead
    forward = true;
  }
  let wire: number;
  // Sizes: small (64–100), medium (101–599), full (600–1514), about 45/20/35 %.
  if (sizeDraw < 45) wire = 64 + r.below(37);
  else if (sizeDraw < 65) wire = 101 + r.below(499);
  else wire = 600 + r.below(915);
  const vlanBytes = view.vlan !== undefined ? 4 : 0;
  const cap = Math.min(snap, wire + vlanBytes);
  const end = off + cap;
  // A scratch area: write the whole header area (never more than 80 bytes) then cut at the snaplen.
  const hdr = SCRATCH;
  hdr.fill(0, 0, 96);
  const macSrc = view.routerMacs ? 0x02aa0000 | (f.macB & 0xffff) : f.macA;
  const macDst = view.routerMacs ? 0x02bb0000 | (f.macA & 0xffff) : f.macB;
  hdr.writeUInt16BE(0x0200, 0);
  hdr.writeUInt32BE(forward ? macDst : macSrc, 2);
  hdr.writeUInt16BE(0x0200, 6);
  hdr.writeUInt32BE(forward ? macSrc : macDst, 8);
  if (to) {
    to.dstMac.copy(hdr, 0);
    to.srcMac.copy(hdr, 6);
  }
  let o = 12;
  if (view.vlan !== undefined) {
    hdr.writeUInt16BE(0x8100, o);
    hdr.writeUInt16BE(view.vlan, o + 2);
    o += 4;
  }
  let headerLen: number;
  if (kind < 5) {
    // ARP request or reply
    hdr.writeUInt16BE(0x0806, o);
    o += 2;
    hdr.writeUInt16BE(1, o);
    hdr.writeUInt16BE(0x0800, o + 2);
    hdr[o + 4] = 6;
    hdr[o + 5] = 4;
    const reply = (r.next() & 1) === 1;
    hdr.writeUInt16BE(reply ? 2 : 1, o + 6);
    hdr.writeUInt16BE(0x0200, o + 8);
    hdr.writeUInt32BE(f.macA, o + 10);
    hdr.writeUInt32BE(f.src, o + 14);
    if (reply) {
      hdr.writeUInt16BE(0x0200, o + 18);
      hdr.writeUInt32BE(f.macB, o + 20);
    }
    hdr.writeUInt32BE(f.dst, o + 24);
    headerLen = o + 28;
    wire = 60 + vlanBytes;
  } else {
    hdr.writeUInt16BE(0x0800, o);
    o += 2;
    const ip = o;
    let src = forward ? f.src : f.dst;
    let dst = forward ? f.dst : f.src;
    if (to) {
      dst = to.dstIp;
      // Never from the destination's own /24: the host would answer on-link (ARP, replies).
      if ((src & 0xffffff00) === (dst & 0xffffff00)) {
        const other = NETS.find((n) => (n | 0) !== (dst & 0xffffff00))!;
        src = (other | (src & 0xff)) >>> 0;
      }
    }
    hdr[ip] = 0x45;
    hdr.writeUInt16BE(wire - 14, ip + 2);
    f.ipId = (f.ipId + 1) & 0xffff;
    hdr.writeUInt16BE(f.ipId, ip + 4);
    hdr.writeUInt16BE(0x4000, ip + 6);
    hdr[ip + 8] = 64 - view.ttlDelta;
    hdr.writeUInt32BE(src, ip + 12);
    hdr.writeUInt32BE(dst, ip + 16);
    o = ip + 20;
    if (kind < 60) {
      hdr[ip + 9] = 6;
      const syn = r.below(20) === 0;
      const optLen = syn ? 20 : 12;
      const minWire = 14 + 20 + 20 + optLen;
      if (wire < minWire) {
        wire = minWire;
        hdr.writeUInt16BE(wire - 14, ip + 2);
      }
      hdr.writeUInt16BE(forward ? f.sport : f.dport, o);
      hdr.writeUInt16BE(forward ? f.dport : f.sport, o + 2);
      const payload = wire - minWire;
      hdr.writeUInt32BE(forward ? f.seq : f.ack, o + 4);
      hdr.writeUInt32BE(forward ? f.ack : f.seq, o + 8);
      if (forward) f.seq = (f.seq + payload + (syn ? 1 : 0)) >>> 0;
      else f.ack = (f.ack + payload) >>> 0;
      hdr[o + 12] = ((20 + optLen) / 4) << 4;
      hdr[o + 13] = syn ? (forward ? 0x02 : 0x12) : payload > 0 ? 0x18 : 0x10;
      hdr.writeUInt16BE(64240, o + 14);
      let t = o + 20;
      if (syn) {
        hdr.set([2, 4, 0x05, 0xb4, 4, 2, 8, 10], t);
        hdr.writeUInt32BE((f.seq ^ 0x1234) >>> 0, t + 8);
        hdr.writeUInt32BE(0, t + 12);
        hdr.set([1, 3, 3, 7], t + 16);
      } else {
        hdr.set([1, 1, 8, 10], t);
        hdr.writeUInt32BE((f.seq ^ 0x1234) >>> 0, t + 4);
        hdr.writeUInt32BE((f.ack ^ 0x4321) >>> 0, t + 8);
      }
      t += optLen;
      headerLen = t;
      if (payload > 0) {
        hdr.writeUInt32BE(r.next(), t);
        hdr.writeUInt32BE(r.next(), t + 4);
      }
      if (payload > 0) headerLen = Math.min(t + Math.min(payload, 8), 96);
    } else if (kind < 85) {
      hdr[ip + 9] = 17;
      if (wire < 14 + 28 + 4) {
        wire = 14 + 28 + 4;
        hdr.writeUInt16BE(wire - 14, ip + 2);
      }
      hdr.writeUInt16BE(forward ? f.sport : f.dport, o);
      hdr.writeUInt16BE(forward ? 53 + (f.dport & 7) : f.sport, o + 2);
      hdr.writeUInt16BE(wire - 14 - 20, o + 4);
      hdr.writeUInt32BE(r.next(), o + 8);
      hdr.writeUInt32BE(r.next(), o + 12);
      headerLen = o + 16;
    } else {
      hdr[ip + 9] = 1;
      hdr[o] = forward ? 8 : 0;
      hdr.writeUInt16BE(f.sport, o + 4);
      f.icmpSeq = (f.icmpSeq + 1) & 0xffff;
      hdr.writeUInt16BE(f.icmpSeq, o + 6);
      hdr.writeUInt32BE(r.next(), o + 8);
      headerLen = o + 12;
    }
    // IPv4 header checksum
    let sum = 0;
    for (let i = ip; i < ip + 20; i += 2) sum += hdr.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    hdr.writeUInt16BE(~sum & 0xffff, ip + 10);
    wire += vlanBytes;
  }
  const total = Math.min(snap, wire);
  const copy = Math.min(total, headerLen);
  hdr.copy(b, off, 0, copy);
  if (total > copy) b.fill(0x5a, off + copy, off + total);
  void end;
  return [total, wire];
}

const SCRATCH = Buffer.alloc(128);

function makeFlows(n: number, r: Xorshift): Flow[] {
  const flows: Flow[] = [];
  for (let i = 0; i < n; i++) {
    const net = NETS[r.below(3)]!;
    const net2 = NETS[r.below(3)]!;
    flows.push({
      src: (net | (1 + r.below(254))) >>> 0,
      dst: (net2 | (1 + r.below(254))) >>> 0,
      sport: 1024 + r.below(60000),
      dport: [80, 443, 22, 5432, 6379, 8080][r.below(6)]!,
      seq: r.next(),
      ack: r.next(),
      ipId: r.below(65536),
      icmpSeq: 0,
      macA: r.next() & 0xffffff,
      macB: r.next() & 0xffffff,
    });
  }
  return flows;
}

/** Writes one capture file; returns the number of packets written. */
export function generateCapture(file: string, o: GenerateOptions, view: HopView = FOUR_HOPS[0]!): number {
  const seed = o.seed ?? 1;
  const snap = o.snaplen ?? 65535;
  const rate = o.rate ?? 1_000_000;
  const r = new Xorshift(seed);
  const flows = makeFlows(o.flows ?? 50_000, new Xorshift(seed ^ 0x5bd1e995));
  const lossRng = new Xorshift(seed ^ 0x2545f491);
  const gapNs = Math.max(1, Math.round(1e9 / rate));
  const ng = o.format === 'pcapng';
  const pw = ng ? undefined : new PcapWriter(file, 1, { nanos: true, snaplen: snap });
  const nw = ng ? new PcapngWriter(file) : undefined;
  if (nw) {
    nw.section({ application: 'hopdump bench generator' });
    nw.addInterface({ linkType: 1, snaplen: snap, name: 'gen0', tsresol: 9 });
  }
  const tmp = Buffer.alloc(2048);
  const to = o.towards ? towardsBytes(o.towards) : undefined;
  let written = 0;
  for (let i = 0; i < o.packets; i++) {
    const tNs = i * gapNs + view.latencyNs;
    const sec = BASE_SEC + Math.floor(tNs / 1e9);
    const nsec = tNs % 1e9;
    const [cap, wire] = frame(tmp, 0, snap, r, flows, view, to);
    if (view.lossOneIn > 0 && lossRng.below(view.lossOneIn) === 0) continue;
    if (pw) {
      const [b, at] = pw.reserve(sec, nsec, cap, wire);
      tmp.copy(b, at, 0, cap);
    } else {
      const t = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
      nw!.packet(0, t, tmp.subarray(0, cap), wire);
    }
    written++;
  }
  pw?.close();
  nw?.close();
  return written;
}

/** The same traffic as seen at each hop of FOUR_HOPS (or the first `hops` of them). */
export function generateHops(files: string[], o: GenerateOptions): number[] {
  return files.map((f, i) => generateCapture(f, o, FOUR_HOPS[i % FOUR_HOPS.length]));
}
