/**
 * A command's usage text (what `hopdump COMMAND --help` prints) read as structure, for the man
 * pages (man.ts) and the completion scripts (completion.ts): one source, so none can drift from
 * --help. The texts keep a few conventions for it:
 * - the first paragraph is the synopsis: `usage: hopdump COMMAND ...`, continued on indented
 *   lines; a line that starts with `hopdump` (indented) is another synopsis (lab's subcommands);
 * - a paragraph whose lines start with exactly two spaces is a list: each such line is an entry,
 *   its term and its text separated by two or more spaces, and deeper-indented lines continue the
 *   text (the options, lab's subcommands);
 * - a paragraph that starts with `Exit codes:` lists them as `N text, N text`;
 * - any other paragraph is prose.
 */

export interface ListEntry {
  term: string;
  text: string[];
}

export type UsageBlock =
  | { kind: 'prose'; lines: string[] }
  | { kind: 'list'; entries: ListEntry[] }
  | { kind: 'exit'; codes: Array<{ code: string; text: string }> };

export interface ParsedUsage {
  /** Each synopsis on one line, without `usage: ` (`hopdump diagnose --target T [--netns NS] ...`). */
  synopses: string[];
  blocks: UsageBlock[];
}

export function parseUsage(usage: string): ParsedUsage {
  const paragraphs: string[][] = [];
  let current: string[] = [];
  for (const line of usage.replace(/\s+$/, '').split('\n')) {
    if (line.trim() === '') {
      if (current.length) paragraphs.push(current);
      current = [];
    } else current.push(line.replace(/\s+$/, ''));
  }
  if (current.length) paragraphs.push(current);
  const [first, ...rest] = paragraphs;
  if (!first || !/^usage: hopdump\b/.test(first[0]!)) throw new Error('a usage text starts with "usage: hopdump"');
  const synopses: string[] = [];
  for (const line of first) {
    const text = line.replace(/^usage:\s*/, '').trim();
    if (/^hopdump\b/.test(text)) synopses.push(text);
    else synopses[synopses.length - 1] += ` ${text}`;
  }
  const blocks = rest.map((p): UsageBlock => {
    if (/^Exit codes:/.test(p[0]!)) {
      const text = p
        .map((l) => l.trim())
        .join(' ')
        .replace(/^Exit codes:\s*/, '')
        .replace(/\.$/, '');
      const codes = text.split(/,\s*(?=\d+ )/).map((c) => {
        const m = /^(\d+)\s+(.*)$/.exec(c.trim());
        return { code: m?.[1] ?? '', text: m?.[2] ?? c.trim() };
      });
      return { kind: 'exit', codes };
    }
    if (/^ {2}\S/.test(p[0]!)) {
      const entries: ListEntry[] = [];
      for (const line of p) {
        if (/^ {2}\S/.test(line)) {
          const m = /^ {2}(\S.*?)(?: {2,}(\S.*))?$/.exec(line)!;
          entries.push({ term: m[1]!, text: m[2] ? [m[2]] : [] });
        } else entries[entries.length - 1]!.text.push(line.trim());
      }
      return { kind: 'list', entries };
    }
    return { kind: 'prose', lines: p.map((l) => l.trim()) };
  });
  return { synopses, blocks };
}

/** An option token: `--long-name` or `-x` (not a lone `-`, not inside a word such as `hd-x`). */
export const OPTION_TOKEN = /(?<![\w-])--?[A-Za-z][\w-]*/g;

export interface OptionSpec {
  /** `--target`, `-c`. */
  name: string;
  /** Its value's name in the synopsis (`T`, `FILE`, `given|auto`), undefined for a flag. */
  value?: string;
  /** The literal values the synopsis lists (`given`, `auto`; `icmp`, `arp`); empty when none. */
  choices: string[];
}

export interface SynopsisSpec {
  /** `lab up`: the words after hopdump that name what runs. */
  words: string[];
  options: OptionSpec[];
  /** What comes without an option: `FILE...`, `TOPOLOGY`, `[ID]`, `bash|zsh|fish`. */
  positionals: string[];
}

const LITERAL = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * The options and positionals of one synopsis line. An option takes a value when the next token
 * is neither an option nor a bracket; `A | B` and `A|B` after it are its alternatives.
 */
export function parseSynopsis(synopsis: string): SynopsisSpec {
  // Brackets that group (`[--json]`, `[--stats [--threads N]]`) are tokens of their own; brackets
  // inside a word (`tcp:PORT[@ADDR]`) stay in it.
  const tokens: string[] = [];
  for (const raw of synopsis.split(/\s+/).filter(Boolean)) {
    let t = raw;
    while (t.startsWith('[')) {
      tokens.push('[');
      t = t.slice(1);
    }
    let closing = 0;
    t = t.replace(/\.\.\.$/, '');
    while (t.endsWith(']') && count(t, ']') > count(t, '[')) {
      t = t.slice(0, -1);
      closing++;
    }
    t = t.replace(/\.\.\.$/, '');
    if (t) tokens.push(t);
    for (let i = 0; i < closing; i++) tokens.push(']');
  }
  const [, ...rest] = tokens;
  const words: string[] = [];
  let i = 0;
  while (i < rest.length && /^[a-z][a-z-]*$/.test(rest[i]!) && !rest[i]!.includes('|')) words.push(rest[i++]!);
  const options: OptionSpec[] = [];
  const positionals: string[] = [];
  for (; i < rest.length; i++) {
    const t = rest[i]!;
    if (t === '[' || t === ']' || t === '|') continue;
    if (!/^--?[A-Za-z]/.test(t)) {
      positionals.push(t);
      continue;
    }
    const next = rest[i + 1];
    if (next === undefined || /^[-[\]|]/.test(next)) {
      options.push({ name: t, choices: [] });
      continue;
    }
    const alternatives = next.split('|');
    i++;
    while (rest[i + 1] === '|' && rest[i + 2] !== undefined && !/^[-[\]]/.test(rest[i + 2]!)) {
      alternatives.push(rest[i + 2]!);
      i += 2;
    }
    options.push({
      name: t,
      value: alternatives.join('|'),
      choices: alternatives.filter((a) => LITERAL.test(a)),
    });
  }
  return { words: words.slice(1), options, positionals };
}

function count(s: string, c: string): number {
  return s.split(c).length - 1;
}

/** The first line of each list entry's text, by the options its term names: descriptions for the shells. */
export function optionTexts(parsed: ParsedUsage): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of parsed.blocks) {
    if (b.kind !== 'list') continue;
    for (const e of b.entries) {
      const first = e.text.join(' ').split(/(?<=[.;])\s/)[0] ?? '';
      for (const name of e.term.match(OPTION_TOKEN) ?? [])
        if (!out.has(name)) out.set(name, first.replace(/[.;]$/, ''));
    }
  }
  return out;
}
