import { prefixContains } from '../model/ip.js';
import { iptablesWords } from '../util/shell.js';

/** The traffic a DNAT rule is asked about: a published port, and where the probe was sent. */
export interface DnatQuery {
  port: number;
  proto?: 'tcp' | 'udp';
  /** The probe's destination address: a rule with -d for another address does not apply. */
  destination?: string;
}

/**
 * Whether an iptables-save DNAT rule maps the query to one of `to` (any target when `to` is
 * empty). Matched word by word, exactly: --dport 80 is not 8080 (a range a:b holds its ports),
 * --to-destination 10.0.0.1 is not 10.0.0.12; -p and -d (negated too) must admit the query.
 */
export function dnatMaps(spec: string, q: DnatQuery, to: string[]): boolean {
  const w = iptablesWords(spec);
  const opt = (name: string): { value: string; negated: boolean } | undefined => {
    const i = w.indexOf(name);
    return i >= 0 && i + 1 < w.length ? { value: w[i + 1]!, negated: w[i - 1] === '!' } : undefined;
  };
  const dport = opt('--dport') ?? opt('--destination-port');
  if (!dport || dport.negated || !portIn(dport.value, q.port)) return false;
  const proto = opt('-p') ?? opt('--protocol');
  if (proto && q.proto && (proto.value === q.proto) === proto.negated) return false;
  const dst = opt('-d') ?? opt('--destination');
  if (dst && q.destination && inPrefix(dst.value, q.destination) === dst.negated) return false;
  if (to.length === 0) return true;
  const target = opt('--to-destination')?.value;
  if (!target) return false;
  return to.some((a) => targetAddress(target) === a);
}

/** "80", "8000:8080" (iptables' range) */
function portIn(text: string, port: number): boolean {
  const [lo, hi] = text.split(':').map(Number);
  return hi === undefined ? lo === port : lo! <= port && port <= hi;
}

function inPrefix(text: string, address: string): boolean {
  return prefixContains(text.includes('/') ? text : `${text}/${address.includes(':') ? 128 : 32}`, address).contains;
}

/** The first address of --to-destination: "10.0.0.1:80", "10.0.0.1-10.0.0.9", "[2001:db8::1]:80". */
function targetAddress(text: string): string {
  const v6 = text.match(/^\[([^\]]+)\]/);
  if (v6) return v6[1]!;
  if ((text.match(/:/g) ?? []).length > 1) return text.split('-')[0]!;
  return text.split(':')[0]!.split('-')[0]!;
}
