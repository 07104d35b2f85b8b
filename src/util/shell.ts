import { printable } from './printable.js';

/**
 * The one way fix commands are written (docs/causes.md, "Fix commands"): hopdump's own words are
 * the template's literal text; every value that came from the host (an interface, chain, table,
 * rule, address, domain, path) is interpolated and becomes exactly one shell word, single-quoted
 * unless it is plainly safe. Linux allows `$`, `(`, `;`, `|` and quotes in interface names, and a
 * guest or container with NET_ADMIN chooses its own: the printed command must be safe to paste.
 * Remarks (`# ...`) never carry a raw newline: control characters are shown as escapes.
 */

/** Text that is already shell syntax, written by hopdump itself (a fixed option, an operator). */
export class Verbatim {
  constructor(readonly text: string) {}
}
export const verbatim = (text: string): Verbatim => new Verbatim(text);

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word: as it is when every character is safe, else single-quoted. */
export function shq(word: string | number): string {
  const s = String(word);
  if (s !== '' && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

type Part = string | number | Verbatim | ReadonlyArray<string | number>;

/** sh`ip link set ${name} up`: each value one quoted word (an array: one word per element). */
export function sh(strings: TemplateStringsArray, ...values: Part[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += v instanceof Verbatim ? v.text : Array.isArray(v) ? v.map(shq).join(' ') : shq(v as string | number);
    out += strings[i + 1]!;
  });
  return out;
}

/** "# text", control characters escaped, so that nothing after the # can end the comment. */
export function remark(text: string): string {
  return `# ${printable(text)}`;
}

/** A command followed by a remark, the way the fix lines align them. */
export function withRemark(command: string, text: string): string {
  return `${command}    ${remark(text)}`;
}

/**
 * Splits an iptables-save rule ("-A FORWARD -i eth0 -m comment --comment \"a b\" -j DROP") into
 * its words as iptables-save quotes them (double quotes, backslash escapes), so that each can be
 * re-quoted for the shell: iptables-save's quoting is not the shell's ($ and ` stay live in "...").
 */
export function iptablesWords(spec: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < spec.length) cur += spec[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
