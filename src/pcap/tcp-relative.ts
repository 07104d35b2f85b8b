import { type Decoded, L3_IPV6 } from './decoded.js';

/**
 * TCP sequence and acknowledgement numbers relative to a connection's start, as `tcpdump` prints
 * them without `-S` (print-tcp.c, `tcp_seq_hash`), for the text of `hopdump read` only: decode(),
 * the fingerprints and `--json` keep the absolute numbers.
 *
 * tcpdump's rules, followed exactly:
 * - only a segment with ACK set is made relative (a bare SYN, a RST without ACK: absolute);
 * - a connection is its 4-tuple in both directions: one entry, keyed in a fixed order (the lower
 *   port first; equal ports: the lower address first);
 * - an ACK segment of a connection not seen yet, or one with SYN set (a SYN-ACK, a new connection
 *   on the same 4-tuple), records the base (this direction's seq, and ack − 1 for the other
 *   direction) and is printed absolute;
 * - later segments print seq − base of their direction and ack − base of the other direction
 *   (mod 2³²); SACK blocks are relative to the base of the direction they acknowledge.
 *
 * Unlike tcpdump (whose table only grows), the table is bounded: at most `capacity` connections
 * (65 536 by default: about 8 MB); beyond, the connection seen least recently is forgotten (its next
 * ACK segment then starts a new base, printed absolute, as a connection tcpdump had not seen).
 */
export class TcpRelative {
  private readonly keyBytes = new Uint8Array(37);
  /** Per connection: tcpdump's th->seq (base of the key's first direction) and th->ack (the other). */
  private readonly conns = new Map<string, { seq: number; ack: number }>();

  /** Results of the last apply(): the numbers to print, and the bases SACK blocks subtract. */
  seq = 0;
  ack = 0;
  /** tcpdump's thseq/thack and rev: a SACK block is `s − (rev ? thseq : thack)`. */
  thseq = 0;
  thack = 0;
  rev = false;

  constructor(readonly capacity = 65_536) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  /** Connections remembered. */
  get size(): number {
    return this.conns.size;
  }

  /** Makes the decoded TCP segment's numbers relative (sets seq, ack, thseq, thack, rev). */
  apply(p: Decoded): void {
    let seq = p.seq;
    let ack = p.ack;
    this.thseq = this.thack = 0;
    this.rev = false;
    const flags = p.tcpFlags;
    if ((flags & 0x10) === 0) {
      this.seq = seq;
      this.ack = ack;
      return;
    }
    const d = p.data;
    const o = p.l3Off;
    const v6 = p.l3 === L3_IPV6;
    const aLen = v6 ? 16 : 4;
    const src = o + (v6 ? 8 : 12);
    const dst = src + aLen;
    const sport = p.srcPort;
    const dport = p.dstPort;
    let rev = sport > dport;
    if (sport === dport) {
      for (let i = 0; i < aLen; i++) {
        if (d[src + i] !== d[dst + i]) {
          rev = d[src + i]! > d[dst + i]!;
          break;
        }
      }
    }
    // The key in tcpdump's order: (src, dst, sport<<16|dport), the reverse direction swapped; one
    // flat string of one-byte characters (13 for IPv4, 37 for IPv6), made in one call: a string
    // grown by += is a rope of small pieces, several times the memory.
    const a = rev ? dst : src;
    const b = rev ? src : dst;
    const k = this.keyBytes;
    k[0] = aLen;
    k.set(d.subarray(a, a + aLen), 1);
    k.set(d.subarray(b, b + aLen), 1 + aLen);
    const p1 = rev ? dport : sport;
    const p2 = rev ? sport : dport;
    const n = 1 + 2 * aLen;
    k[n] = p1 >> 8;
    k[n + 1] = p1 & 0xff;
    k[n + 2] = p2 >> 8;
    k[n + 3] = p2 & 0xff;
    const key = String.fromCharCode.apply(null, k.subarray(0, n + 4) as unknown as number[]);
    let th = this.conns.get(key);
    if (th === undefined || (flags & 0x02) !== 0) {
      if (th === undefined) {
        th = { seq: 0, ack: 0 };
        if (this.conns.size >= this.capacity) this.conns.delete(this.conns.keys().next().value!);
      } else this.conns.delete(key);
      if (rev) {
        th.ack = seq;
        th.seq = (ack - 1) >>> 0;
      } else {
        th.seq = seq;
        th.ack = (ack - 1) >>> 0;
      }
    } else {
      // Seen again: to the back of the eviction order.
      this.conns.delete(key);
      if (rev) {
        seq = (seq - th.ack) >>> 0;
        ack = (ack - th.seq) >>> 0;
      } else {
        seq = (seq - th.seq) >>> 0;
        ack = (ack - th.ack) >>> 0;
      }
    }
    this.conns.set(key, th);
    this.seq = seq;
    this.ack = ack;
    this.thseq = th.seq;
    this.thack = th.ack;
    this.rev = rev;
  }

  clear(): void {
    this.conns.clear();
  }
}
