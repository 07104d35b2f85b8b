import { decode } from './decode.js';
import { Decoded, GENEVE_PORT, PROTO_CLASSES, protoClass } from './decoded.js';
import { fastFingerprint, fingerprintHex } from './fingerprint.js';
import { DistinctCounter, type DistinctSnapshot } from './distinct.js';
import { LINKTYPE_ETHERNET, linkTypeName } from './linktypes.js';
import type { PcapReader } from './reader.js';
import { epochText } from './summary.js';

/** 0 as a double: fields that will hold numbers beyond 2³¹ start as one (see reader.ts, DOUBLE_ZERO). */
const DOUBLE_ZERO = -0;

export interface StatsSnapshot {
  packets: number;
  bytes: number;
  captured: number;
  classes: Float64Array;
  tunnelled: number;
  geneve: number;
  first: [number, number];
  last: [number, number];
  fingerprints: DistinctSnapshot;
  linkTypeCounts: Float64Array;
  otherLinkTypes: Array<[number, number]>;
  lastFp: string;
}

/** Totals of `hopdump read --stats`: every packet decoded and fingerprinted, nothing kept. */
export class CaptureStats {
  packets = 0;
  /** Bytes on the wire, and bytes captured. */
  bytes = DOUBLE_ZERO;
  captured = DOUBLE_ZERO;
  readonly classes = new Float64Array(PROTO_CLASSES.length);
  tunnelled = 0;
  /** Of the tunnelled packets, those in Geneve (the others are VXLAN). */
  geneve = 0;
  private firstSec = -1;
  private firstNsec = 0;
  private lastSec = -1;
  private lastNsec = 0;
  readonly fingerprints = new DistinctCounter();
  /** Packets per link type: an array for the common (< 512) ones, no Map operation per packet. */
  private readonly linkTypeCounts = new Float64Array(512);
  private readonly otherLinkTypes = new Map<number, number>();
  private readonly d = new Decoded();

  /** Decodes and counts the reader's current packet. */
  add(r: PcapReader): void {
    // The commonest frames (Ethernet, IPv4, TCP/UDP/ICMP) are fingerprinted from their bytes.
    let cls = r.linkType === LINKTYPE_ETHERNET ? fastFingerprint(r.buf, r.dataOff, r.caplen, this.d) : -1;
    if (cls < 0) {
      const p = decode(r.buf, r.dataOff, r.caplen, r.linkType, this.d);
      cls = protoClass(p);
      if (p.tunnel) {
        this.tunnelled++;
        const o = p.outerL4Off;
        if (((p.data[o + 2]! << 8) | p.data[o + 3]!) === GENEVE_PORT) this.geneve++;
      }
    }
    this.packets++;
    this.bytes += r.origLen;
    this.captured += r.caplen;
    this.classes[cls]!++;
    this.fingerprints.addFingerprint(this.d);
    if (this.firstSec < 0) {
      this.firstSec = r.tsSec;
      this.firstNsec = r.tsNsec;
    }
    this.lastSec = r.tsSec;
    this.lastNsec = r.tsNsec;
    const lt = r.linkType;
    if (lt < 512) this.linkTypeCounts[lt]!++;
    else this.otherLinkTypes.set(lt, (this.otherLinkTypes.get(lt) ?? 0) + 1);
  }

  /**
   * Adds every packet the reader gives (to its end, or its stopAt). The one loop of every caller
   * (one thread, the chunks of several, the probe): V8 optimizes it once, and what the callers do
   * around it (the chunk results' fields changing shape) cannot throw its optimized code away.
   */
  addAll(r: PcapReader): void {
    while (r.next()) this.add(r);
  }

  /** Everything merge() needs, as plain data and typed arrays (posted from a worker thread). */
  snapshot(): StatsSnapshot {
    return {
      packets: this.packets,
      bytes: this.bytes,
      captured: this.captured,
      classes: this.classes,
      tunnelled: this.tunnelled,
      geneve: this.geneve,
      first: [this.firstSec, this.firstNsec],
      last: [this.lastSec, this.lastNsec],
      fingerprints: this.fingerprints.snapshot(),
      linkTypeCounts: this.linkTypeCounts,
      otherLinkTypes: [...this.otherLinkTypes],
      lastFp: this.packets ? this.lastFingerprint() : '',
    };
  }

  /** Adds the totals of packets that come after this one's in the capture (another part of the file). */
  merge(o: StatsSnapshot): void {
    if (o.packets === 0) return;
    this.packets += o.packets;
    this.bytes += o.bytes;
    this.captured += o.captured;
    for (let i = 0; i < this.classes.length; i++) this.classes[i]! += o.classes[i]!;
    this.tunnelled += o.tunnelled;
    this.geneve += o.geneve;
    if (this.firstSec < 0) [this.firstSec, this.firstNsec] = o.first;
    [this.lastSec, this.lastNsec] = o.last;
    this.fingerprints.merge(o.fingerprints);
    for (let i = 0; i < this.linkTypeCounts.length; i++) this.linkTypeCounts[i]! += o.linkTypeCounts[i]!;
    for (const [lt, n] of o.otherLinkTypes) this.otherLinkTypes.set(lt, (this.otherLinkTypes.get(lt) ?? 0) + n);
    this.mergedLastFp = o.lastFp;
    this.mergedAt = this.packets;
  }

  /** The last packet's time, as [seconds, nanoseconds] ([-1, 0] before any). */
  get lastTime(): [number, number] {
    return [this.lastSec, this.lastNsec];
  }

  /**
   * After merging parts read out of order (parallel.ts): the capture's last packet, as the part
   * that holds it said.
   */
  setLast(sec: number, nsec: number, fp: string): void {
    this.lastSec = sec;
    this.lastNsec = nsec;
    this.mergedLastFp = fp;
    this.mergedAt = this.packets;
  }

  /** The last merged part's last fingerprint, while no packet was added after it. */
  private mergedLastFp = '';
  private mergedAt = -1;

  /** The last packet's fingerprint (tests and --stats of one packet). */
  lastFingerprint(): string {
    if (this.mergedAt === this.packets) return this.mergedLastFp;
    return fingerprintHex(this.d.fpHi, this.d.fpLo);
  }

  toJSON(): Record<string, unknown> {
    const protocols: Record<string, number> = {};
    PROTO_CLASSES.forEach((c, i) => {
      if (this.classes[i]) protocols[c] = this.classes[i]!;
    });
    if (this.tunnelled > this.geneve) protocols.vxlan = this.tunnelled - this.geneve;
    if (this.geneve) protocols.geneve = this.geneve;
    const linkTypes: Record<string, number> = {};
    this.linkTypeCounts.forEach((n, lt) => {
      if (n > 0) linkTypes[linkTypeName(lt)] = n;
    });
    for (const [lt, n] of this.otherLinkTypes) linkTypes[linkTypeName(lt)] = n;
    const duration = this.firstSec < 0 ? 0 : this.lastSec - this.firstSec + (this.lastNsec - this.firstNsec) / 1e9;
    return {
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.captured,
      protocols,
      linkTypes,
      distinctFingerprints: this.fingerprints.count(),
      distinctExact: this.fingerprints.exact,
      first: this.firstSec < 0 ? null : epochText(this.firstSec, this.firstNsec),
      last: this.lastSec < 0 ? null : epochText(this.lastSec, this.lastNsec),
      durationSeconds: Math.round(duration * 1e6) / 1e6,
    };
  }

  text(): string {
    const j = this.toJSON();
    const iso = (t: unknown) =>
      typeof t === 'string'
        ? new Date(Number(t.split('.')[0]) * 1000).toISOString().replace('.000Z', `.${t.split('.')[1]}Z`)
        : '-';
    const protos = Object.entries(j.protocols as Record<string, number>)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return [
      `packets:      ${this.packets}`,
      `bytes:        ${this.bytes} on the wire, ${this.captured} captured`,
      `protocols:    ${protos || '-'}`,
      `link types:   ${
        Object.entries(j.linkTypes as Record<string, number>)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '-'
      }`,
      `fingerprints: ${String(j.distinctFingerprints)} distinct${j.distinctExact ? '' : ' (estimate: more than the exact table holds)'}`,
      `first:        ${iso(j.first)}`,
      `last:         ${iso(j.last)}`,
      `duration:     ${String(j.durationSeconds)} s`,
      '',
    ].join('\n');
  }
}
