/**
 * Comparing `hopdump read` with `tcpdump -nn -r` line by line: which tcpdump lines are compared, up to
 * where, and what a difference is called. Shared by scripts/tcpdump-fidelity.ts (tcpdump's own test
 * captures) and test/pcap/tcpdump-fidelity.test.ts (a subset of them, in the tests).
 */

/** A packet's first line in tcpdump's output starts with its time of day (tcpdump's default -t). */
const TIME = /^\d\d:\d\d:\d\d\.\d{6} /;

/**
 * tcpdump prints most packets on one line, some (a few dissectors, even without -v) on several;
 * a packet starts at a line that starts with the time. Returns each packet's first line.
 */
export function packetLines(out: string): string[] {
  return out.split('\n').filter((l) => TIME.test(l));
}

export type LineClass = 'tcp' | 'udp' | 'icmp-echo' | 'geneve';

/**
 * The selection rule: the tcpdump line (after the time) is `IP ` or `IP6 ` straight away (no VLAN,
 * MPLS, PPPoE, ... in front: "plain"), then `SRC > DST: ` and then
 *
 * - tcp: `SRC.PORT > DST.PORT: Flags [` (a TCP header tcpdump decoded; IPv6 extension headers
 *   put their own text there, `HBH ...`, and are left out);
 * - udp: `SRC.PORT > DST.PORT: UDP, ` (a port tcpdump has no dissector for);
 * - geneve: `SRC.PORT > DST.PORT: Geneve, ` (a UDP tunnel: the inner packet follows on the line);
 * - icmp-echo: `SRC > DST: ICMP echo request|reply` or `ICMP6, echo request|reply`.
 *
 * Not VXLAN: tcpdump 4.99 ends the line after the VXLAN header and prints the inner packet on the
 * next line, hopdump prints both on one (one line per packet): the first lines never compare.
 *
 * Which files: the caller's (scripts/tcpdump-fidelity.ts takes Ethernet (EN10MB) files).
 */
export function lineClass(line: string): LineClass | undefined {
  const m = /^\d\d:\d\d:\d\d\.\d{6} IP6? (\S+) > (\S+): (.*)$/.exec(line);
  if (!m) return undefined;
  const rest = m[3]!;
  if (/^ICMP echo (request|reply),|^ICMP6, echo (request|reply),/.test(rest)) return 'icmp-echo';
  // Ports: the last dot-separated part of both ends is a number (IPv6 addresses have no dots).
  if (!/\.\d+$/.test(m[1]!) || !/\.\d+$/.test(m[2]!)) return undefined;
  if (rest.startsWith('Flags [')) return 'tcp';
  if (rest.startsWith('UDP, ')) return 'udp';
  if (rest.startsWith('Geneve, ')) return 'geneve';
  return undefined;
}

/**
 * What is compared: the line up to and including its first `length N` (what follows is the
 * payload's dissection: HTTP, BGP, ... which hopdump does not do); the whole line if it has none
 * (tcpdump stopped early: a truncated or bad option).
 */
export function comparable(line: string): string {
  const m = /\blength \d+/.exec(line);
  return m ? line.slice(0, m.index + m[0].length) : line;
}

/** Splits on ", " outside brackets: `Flags [S.]`, `seq 1`, `options [mss 1460,nop]`, ... */
function fields(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && s[i + 1] === ' ' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 2;
    }
  }
  out.push(s.slice(start));
  return out;
}

const word = (f: string | undefined) => (f === undefined ? '(none)' : (/^[A-Za-z-]+/.exec(f)?.[0] ?? f.slice(0, 12)));

/** The TCP option tcpdump printed where the two option lists first differ ("mss", "unknown-30", ...). */
function optionDiff(td: string, hd: string): string {
  const a = /\[(.*)\]/.exec(td)?.[1]?.split(',') ?? [];
  const b = /\[(.*)\]/.exec(hd)?.[1]?.split(',') ?? [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] === undefined ? '(end)' : (/^[A-Za-z][\w-]*/.exec(a[i]!)?.[0] ?? a[i]!);
  }
  return '?';
}

/**
 * A short name for the first difference between tcpdump's and hopdump's lines of one class, for
 * counting: "tcp: seq", "tcp: options mptcp", "udp: head", "time", "missing".
 */
export function mismatchCategory(cls: LineClass, td: string, hd: string | undefined): string {
  if (hd === undefined) return `${cls}: no hopdump line`;
  const ta = TIME.exec(td)?.[0];
  if (ta !== hd.slice(0, ta?.length ?? 0)) return 'time';
  const tf = fields(comparable(td).slice(ta.length));
  const hf = fields(comparable(hd).slice(ta.length));
  for (let i = 0; i < Math.max(tf.length, hf.length); i++) {
    const a = tf[i];
    const b = hf[i];
    if (a === b) continue;
    if (i === 0) {
      // "IP a.1 > b.2: Flags [S.]": addresses, or what follows them.
      const ha = /^(IP6? \S+ > \S+:) ?(.*)$/.exec(a ?? '');
      const hb = /^(IP6? \S+ > \S+:) ?(.*)$/.exec(b ?? '');
      if (!ha || !hb || ha[1] !== hb[1]) return `${cls}: head`;
      if (/^Flags \[/.test(ha[2]!) && /^Flags \[/.test(hb[2]!)) return `${cls}: flags`;
      return `${cls}: after the addresses (${word(ha[2])} vs ${word(hb[2])})`;
    }
    const wa = word(a);
    const wb = word(b);
    if (wa !== wb) return `${cls}: ${wa} vs ${wb}`;
    if (wa === 'options') return `${cls}: options ${optionDiff(a!, b!)}`;
    return `${cls}: ${wa}`;
  }
  return `${cls}: ?`;
}
