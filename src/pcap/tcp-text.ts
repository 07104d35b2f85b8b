import type { Decoded } from './decoded.js';
import { ipv6Text } from './reader.js';
import type { TcpRelative } from './tcp-relative.js';

/**
 * The TCP part of a `tcpdump -nn` line (tcpdump 4.99's print-tcp.c and print-mptcp.c without -v):
 * flags, seq/ack (relative with a TcpRelative, else absolute as with -S), window, urgent pointer,
 * options, length. Truncated and malformed headers end the line where tcpdump ends it.
 */

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const TH_URG = 0x20;

/** tcpdump's tcp_flag_values, in its order: F S R P . U E W. */
const FLAG_CHARS: Array<[number, string]> = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

/** TCP flags as tcpdump prints them inside "Flags [...]": "S", "S.", "P.", "S.W", "none". */
export function tcpFlagsText(flags: number): string {
  let s = '';
  for (const [bit, c] of FLAG_CHARS) if (flags & bit) s += c;
  return s === '' ? 'none' : s;
}

/** tcpdump's tcp_option_values (TCPOPT_CCECHO's name is empty there too). */
const OPTION_NAMES: Record<number, string> = {
  0: 'eol',
  1: 'nop',
  2: 'mss',
  3: 'wscale',
  4: 'sackOK',
  5: 'sack',
  6: 'echo',
  7: 'echoreply',
  8: 'TS',
  11: 'cc',
  12: 'ccnew',
  13: '',
  19: 'md5',
  20: 'scps',
  28: 'uto',
  29: 'tcp-ao',
  30: 'mptcp',
  34: 'tfo',
  254: 'exp',
};

const hex2 = (b: number) => (b < 16 ? '0' : '') + b.toString(16);

/** Thrown when a read runs past the captured bytes: tcpdump prints " [|proto]" and ends the line. */
class Truncated extends Error {
  /** tcheck: found by the options' LENCHECK (tcpdump's goto trunc, which adds ">" after the first option). */
  constructor(
    readonly proto: string,
    readonly tcheck = false,
  ) {
    super(`truncated ${proto}`);
  }
}
/** A malformed option: tcpdump prints "[bad opt]". */
class BadOption extends Error {}

/** Bounds-checked big-endian reads against an end (tcpdump's snapend), throwing Truncated. */
class Cursor {
  constructor(
    readonly d: Uint8Array,
    public end: number,
    public proto: string,
  ) {}
  check(o: number, n: number): void {
    if (o + n > this.end) throw new Truncated(this.proto);
  }
  u8(o: number): number {
    this.check(o, 1);
    return this.d[o]!;
  }
  u16(o: number): number {
    this.check(o, 2);
    return (this.d[o]! << 8) | this.d[o + 1]!;
  }
  u24(o: number): number {
    this.check(o, 3);
    return (this.d[o]! << 16) | (this.d[o + 1]! << 8) | this.d[o + 2]!;
  }
  u32(o: number): number {
    this.check(o, 4);
    return ((this.d[o]! << 24) | (this.d[o + 1]! << 16) | (this.d[o + 2]! << 8) | this.d[o + 3]!) >>> 0;
  }
  /** 64 bits as hex without leading zeros (printf %PRIx64). */
  hex64(o: number): string {
    const hi = this.u32(o);
    const lo = this.u32(o + 4);
    return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
  }
  /** 64 bits in decimal (printf %PRIu64). */
  dec64(o: number): string {
    return ((BigInt(this.u32(o)) << 32n) | BigInt(this.u32(o + 4))).toString();
  }
  hex(o: number, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += hex2(this.u8(o + i));
    return s;
  }
}

/**
 * "Flags [...], seq ..., length N" for the decoded TCP segment (p.l4Off >= 0), as tcpdump prints it
 * after "SRC.PORT > DST.PORT: ". `rel` (tcpdump without -S) makes seq/ack/SACK relative; absent,
 * the numbers are absolute (tcpdump -S).
 */
export function tcpText(p: Decoded, rel: TcpRelative | undefined): string {
  const d = p.data;
  const o = p.l4Off;
  const length = p.l4Len;
  const hlen = (d[o + 12]! >> 4) * 4;
  if (hlen < 20) return ` tcp ${(length - hlen) >>> 0} [bad hdr length ${hlen} - too short, < 20]`;
  const flags = d[o + 13]!;
  let s = `Flags [${tcpFlagsText(flags)}]`;
  let seq = p.seq;
  let ack = p.ack;
  let thseq = 0;
  let thack = 0;
  let rev = false;
  if (rel && flags & TH_ACK) {
    rel.apply(p);
    ({ seq, ack, thseq, thack, rev } = rel);
  }
  if (hlen > length) return `${s} [bad hdr length ${hlen} - too long, > ${length}]`;
  const payload = length - hlen;
  if (payload > 0 || flags & (TH_SYN | TH_FIN | TH_RST)) {
    s += `, seq ${seq}`;
    if (payload > 0) s += `:${(seq + payload) >>> 0}`;
  }
  if (flags & TH_ACK) s += `, ack ${ack}`;
  s += `, win ${(d[o + 14]! << 8) | d[o + 15]!}`;
  if (flags & TH_URG) s += `, urg ${(d[o + 18]! << 8) | d[o + 19]!}`;
  if (hlen > 20) {
    const sackBase = rel && flags & TH_ACK ? (rev ? thseq : thack) : 0;
    const opts = optionsText(p, hlen, flags, sackBase);
    s += `, options [${opts.text}`;
    if (opts.end) return s;
    s += ']';
  }
  return `${s}, length ${payload}`;
}

/**
 * The options as tcpdump's loop prints them; `end` when the line stops there (a bad option: "[bad
 * opt]"; a truncated one: " [|tcp]"). `sackBase` is subtracted from SACK blocks (0 with -S).
 */
function optionsText(p: Decoded, hdrLen: number, flags: number, sackBase: number): { text: string; end: boolean } {
  const c = new Cursor(p.data, p.l4End, 'tcp');
  let cp = p.l4Off + 20;
  let hlen = hdrLen - 20;
  let s = '';
  let ch = '';
  try {
    while (hlen > 0) {
      s += ch;
      const opt = c.u8(cp);
      cp++;
      let len: number;
      if (opt === 0 || opt === 1) len = 1;
      else {
        len = c.u8(cp);
        cp++;
        if (len < 2 || len > hlen) throw new BadOption();
        hlen--;
      }
      hlen--;
      let datalen = 0;
      // "Bail if l bytes of data are not left or were not captured."
      const lencheck = (l: number) => {
        if (l > hlen) throw new BadOption();
        if (cp + l > c.end) throw new Truncated(c.proto, true);
      };
      s += OPTION_NAMES[opt] ?? `unknown-${opt}`;
      switch (opt) {
        case 2:
          datalen = 2;
          lencheck(datalen);
          s += ` ${c.u16(cp)}`;
          break;
        case 3:
          datalen = 1;
          lencheck(datalen);
          s += ` ${c.u8(cp)}`;
          break;
        case 5:
          datalen = len - 2;
          if (datalen % 8 !== 0) s += ' invalid sack';
          else {
            s += ` ${datalen / 8} `;
            for (let i = 0; i < datalen; i += 8) {
              lencheck(i + 4);
              const a = c.u32(cp + i);
              lencheck(i + 8);
              const b = c.u32(cp + i + 4);
              s += `{${(a - sackBase) >>> 0}:${(b - sackBase) >>> 0}}`;
            }
          }
          break;
        case 6:
        case 7:
        case 11:
        case 12:
        case 13:
          datalen = 4;
          lencheck(datalen);
          s += ` ${c.u32(cp)}`;
          break;
        case 8:
          datalen = 8;
          lencheck(datalen);
          s += ` val ${c.u32(cp)} ecr ${c.u32(cp + 4)}`;
          break;
        case 19:
          datalen = 16;
          lencheck(datalen);
          // tcpdump built with OpenSSL (Debian's) tries to verify; without -M it cannot.
          s += ` ${p.payOff + p.payLen > p.l4End ? 'snaplen too short' : 'shared secret not supplied with -M'}, can't check - ${c.hex(cp, 16)}`;
          break;
        case 20:
          datalen = 2;
          lencheck(datalen);
          s += ` cap ${hex2(c.u8(cp))} id ${c.u8(cp + 1)}`;
          break;
        case 29:
          datalen = len - 2;
          if (datalen < 2) s += ' (invalid)';
          else {
            lencheck(1);
            s += ` keyid ${c.u8(cp)}`;
            lencheck(2);
            s += ` rnextkeyid ${c.u8(cp + 1)}`;
            if (datalen > 2) {
              s += ' mac 0x';
              for (let i = 2; i < datalen; i++) {
                lencheck(i + 1);
                s += hex2(c.u8(cp + i));
              }
            }
          }
          break;
        case 0:
        case 1:
        case 4:
          break;
        case 28: {
          datalen = 2;
          lencheck(datalen);
          let uto = c.u16(cp);
          s += ` 0x${uto.toString(16)}`;
          uto = uto & 1 ? (uto >> 1) * 60 : uto >> 1;
          s += ` ${uto}`;
          break;
        }
        case 30: {
          datalen = len - 2;
          lencheck(datalen);
          const out = { s: '' };
          const mc = new Cursor(p.data, Math.min(cp - 2 + len, c.end), 'mptcp');
          let ok: boolean;
          try {
            ok = mptcpText(mc, cp - 2, len, flags, out);
          } finally {
            s += out.s;
          }
          // tcpdump's protocol name stays "mptcp" for a truncation further on.
          c.proto = 'mptcp';
          if (!ok) throw new BadOption();
          break;
        }
        case 34:
          datalen = len - 2;
          lencheck(datalen);
          s += ` ${fastOpenText(c, cp, datalen, false)}`;
          break;
        case 254: {
          datalen = len - 2;
          lencheck(datalen);
          if (datalen < 2) throw new BadOption();
          const magic = c.u16(cp);
          s += `-${magic === 0xf989 ? fastOpenText(c, cp + 2, datalen - 2, true) : magic.toString(16).padStart(4, '0')}`;
          break;
        }
        default:
          datalen = len - 2;
          if (datalen) s += ' 0x';
          for (let i = 0; i < datalen; i++) {
            lencheck(i + 1);
            s += hex2(c.u8(cp + i));
          }
          break;
      }
      cp += datalen;
      hlen -= datalen;
      datalen++;
      if (opt !== 0 && opt !== 1) datalen++;
      if (datalen !== len) s += `[len ${len}]`;
      ch = ',';
      if (opt === 0) break;
    }
    return { text: s, end: false };
  } catch (e) {
    if (e instanceof BadOption) return { text: `${s}[bad opt]${ch ? ']' : ''}`, end: true };
    if (e instanceof Truncated) return { text: `${s} [|${e.proto}]${e.tcheck && ch ? '>' : ''}`, end: true };
    throw e;
  }
}

function fastOpenText(c: Cursor, cp: number, datalen: number, exp: boolean): string {
  const s = exp ? 'tfo' : '';
  if (datalen === 0) return `${s} cookiereq`;
  if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) return `${s} (invalid)`;
  return `${s} cookie ${c.hex(cp, datalen)}`;
}

const MPTCP_NAMES = ['capable', 'join', 'dss', 'add-addr', 'rem-addr', 'prio', 'fail', 'fast-close', 'unknown'];
const ADD_ADDR_VERSIONS: Record<number, string> = { 6: 'v0-ip6', 4: 'v0-ip4', 1: 'v1-echo', 0: 'v1' };

/**
 * tcpdump 4.99's mptcp_print: appends " LEN SUBTYPE details" to out.s as it goes (a truncation
 * keeps what was printed); false where tcpdump's returns 0 (the caller then prints "[bad opt]").
 */
function mptcpText(c: Cursor, opt: number, len: number, flags: number, out: { s: string }): boolean {
  if (len < 3) return false;
  const subtype = Math.min((c.u8(opt + 2) >> 4) & 0xf, 8);
  out.s += ` ${len} ${MPTCP_NAMES[subtype]}`;
  switch (subtype) {
    case 0: {
      if (
        !((len === 12 || len === 4) && flags & TH_SYN) &&
        !((len === 20 || len === 22) && (flags & (TH_SYN | TH_ACK)) === TH_ACK)
      )
        return false;
      const version = c.u8(opt + 2) & 0xf;
      if (version > 1) {
        out.s += ` Unknown Version (${version})`;
        return true;
      }
      out.s += ` v${version}`;
      if (c.u8(opt + 3) & 0x80) out.s += ' csum';
      if (len === 12 || len >= 20) {
        out.s += ` {0x${c.hex64(opt + 4)}`;
        if (len >= 20) out.s += `,0x${c.hex64(opt + 12)}`;
        out.s += '}';
      }
      return true;
    }
    case 1:
      if (
        !(len === 12 && flags & TH_SYN) &&
        !(len === 16 && (flags & (TH_SYN | TH_ACK)) === (TH_SYN | TH_ACK)) &&
        !(len === 24 && flags & TH_ACK)
      )
        return false;
      if (len !== 24) {
        if (c.u8(opt + 2) & 1) out.s += ' backup';
        out.s += ` id ${c.u8(opt + 3)}`;
      }
      if (len === 12) out.s += ` token 0x${c.u32(opt + 4).toString(16)} nonce 0x${c.u32(opt + 8).toString(16)}`;
      else if (len === 16) out.s += ` hmac 0x${c.hex64(opt + 4)} nonce 0x${c.u32(opt + 12).toString(16)}`;
      else out.s += ` hmac 0x${c.hex(opt + 4, 20)}`;
      return true;
    case 2:
      return dssText(c, opt, len, flags, out);
    case 3: {
      if (![8, 10, 16, 18, 20, 22, 28, 30].includes(len)) return false;
      out.s += ` ${ADD_ADDR_VERSIONS[c.u8(opt + 2) & 0xf] ?? '[bad version/echo]'}`;
      out.s += ` id ${c.u8(opt + 3)}`;
      if (len <= 18) {
        c.check(opt + 4, 4);
        out.s += ` ${c.u8(opt + 4)}.${c.u8(opt + 5)}.${c.u8(opt + 6)}.${c.u8(opt + 7)}`;
        if (len === 10 || len === 18) out.s += `:${c.u16(opt + 8)}`;
        if (len === 16) out.s += ` hmac 0x${c.hex64(opt + 8)}`;
        if (len === 18) out.s += ` hmac 0x${c.hex64(opt + 10)}`;
      } else {
        c.check(opt + 4, 16);
        out.s += ` ${ipv6Text(c.d, opt + 4)}`;
        if (len === 22 || len === 30) out.s += `:${c.u16(opt + 20)}`;
        if (len === 28) out.s += ` hmac 0x${c.hex64(opt + 20)}`;
        if (len === 30) out.s += ` hmac 0x${c.hex64(opt + 22)}`;
      }
      return true;
    }
    case 4:
      if (len < 4) return false;
      out.s += ' id';
      for (let i = 0; i < len - 3; i++) out.s += ` ${c.u8(opt + 3 + i)}`;
      return true;
    case 5:
      if (len !== 3 && len !== 4) return false;
      out.s += c.u8(opt + 2) & 1 ? ' backup' : ' non-backup';
      if (len === 4) out.s += ` id ${c.u8(opt + 3)}`;
      return true;
    case 6:
      if (len !== 12) return false;
      out.s += ` seq ${c.dec64(opt + 4)}`;
      return true;
    case 7:
      if (len !== 12) return false;
      out.s += ` key 0x${c.hex64(opt + 4)}`;
      return true;
    default:
      return true;
  }
}

/** The DSS subtype (mp_dss_print): data ack, data sequence mapping, checksum. */
function dssText(c: Cursor, opt: number, len: number, flags: number, out: { s: string }): boolean {
  if (len < 4 || flags & TH_SYN) return false;
  const f = c.u8(opt + 3);
  if (f & 0x10) out.s += ' fin';
  let o = opt + 4;
  let left = len - 4;
  // A 4- or 8-byte number (the a/m flag), as tcpdump prints it; false if it does not fit.
  const number = (wide: boolean): boolean => {
    const n = wide ? 8 : 4;
    if (left < n) return false;
    out.s += wide ? c.dec64(o) : String(c.u32(o));
    o += n;
    left -= n;
    return true;
  };
  if (f & 0x01) {
    out.s += ' ack ';
    if (!number((f & 0x02) !== 0)) return false;
  }
  if (f & 0x04) {
    out.s += ' seq ';
    if (!number((f & 0x08) !== 0)) return false;
    if (left < 4) return false;
    out.s += ` subseq ${c.u32(o)}`;
    o += 4;
    left -= 4;
    if (left < 2) return false;
    out.s += ` len ${c.u16(o)}`;
    o += 2;
    left -= 2;
    if (left >= 2) {
      out.s += ` csum 0x${c.u16(o).toString(16)}`;
      left -= 2;
    }
  }
  return left === 0;
}
