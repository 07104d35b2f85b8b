import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Nothing in src/ outside the lab (src/lab/ and the CLI's lab command) may
 * rely on a path, namespace name, interface name, address or MAC that only the
 * lab uses (issue 16; docs/lab.md "What only the lab knows"). The rule:
 * - `/run/hopdump` (the lab's daemon and state directories) may not appear at all, comments included;
 * - the other names may appear in comments (as clearly-marked examples: a
 *   documentation address reads as an example) but not in code: a line whose
 *   code part, with `//` and block comments removed, still holds one fails;
 * - docker0 is Docker's own default bridge name (dockerd --bridge), not the
 *   lab's, so it may appear as a default; br0 and vnetN are names the lab
 *   picked (a real host's are found from what runs), so they may not.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const EXEMPT = [/^lab\//, /^cli\/lab\.ts$/];

const ANYWHERE: Array<[RegExp, string]> = [[/\/run\/hopdump/, 'the lab directory /run/hopdump']];
const IN_CODE: Array<[RegExp, string]> = [
  [/['"`]hd-|\bhd-\$\{/, "a lab namespace name ('hd-...')"],
  [/\bvnet\d+\b/, 'a lab backend name (vnetN)'],
  [/\bbr0\b/, 'a lab bridge name (br0)'],
  [/\b192\.0\.2\.\d/, 'a lab address (192.0.2.0/24)'],
  [/\b198\.51\.100\.\d/, 'a lab address (198.51.100.0/24)'],
  [/\b203\.0\.113\.\d/, 'a lab address (203.0.113.0/24)'],
  [/\b2001:db8:/i, 'a lab address (2001:db8::/32)'],
  [/\b52:54:00:00:00:[0-9a-f]{2}\b/i, 'a lab MAC (52:54:00:00:00:xx)'],
  [/\b02:00:00:[0-9a-f]{2}:/i, 'a lab MAC (02:00:00:...)'],
];

function files(dir: string, rel = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = `${dir}${name}`;
    const r = `${rel}${name}`;
    if (statSync(path).isDirectory()) return files(`${path}/`, `${r}/`);
    return name.endsWith('.ts') ? [r] : [];
  });
}

/**
 * Each line's code, with comments blanked: block comments (across lines) and
 * `//` comments outside strings and regular expressions are approximated by
 * a `//` preceded by start of line or whitespace, which is how this code base
 * writes them (URLs in strings, such as unix://, have no space before //).
 */
export function codeLines(text: string): string[] {
  const out: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    let code = '';
    let rest = line;
    while (rest.length > 0) {
      if (inBlock) {
        const end = rest.indexOf('*/');
        if (end < 0) {
          break;
        }
        rest = rest.slice(end + 2);
        inBlock = false;
        continue;
      }
      const start = rest.search(/(^|\s)\/\*/);
      const slash = rest.search(/(^|\s)\/\//);
      if (slash >= 0 && (start < 0 || slash < start)) {
        code += rest.slice(0, slash);
        rest = '';
      } else if (start >= 0) {
        code += rest.slice(0, start);
        rest = rest.slice(rest.indexOf('/*', start) + 2);
        inBlock = true;
      } else {
        code += rest;
        rest = '';
      }
    }
    out.push(code);
  }
  return out;
}

test('comments are told from code the way the lab-names rule needs', () => {
  assert.deepEqual(codeLines("a = 'x'; // vnet0\n/** br0\n * 192.0.2.1 */ b = 1;\nc = 'unix://x'"), [
    "a = 'x';",
    '',
    ' b = 1;',
    "c = 'unix://x'",
  ]);
});

test('src/ outside the lab names no path, interface, address or MAC that only the lab uses', () => {
  const all = files(SRC);
  assert.ok(all.length > 50 && all.includes('collect/discover.ts'), 'the source tree is read');
  const found: string[] = [];
  for (const f of all.filter((x) => !EXEMPT.some((e) => e.test(x)))) {
    const text = readFileSync(`${SRC}${f}`, 'utf8');
    const lines = text.split('\n');
    const code = codeLines(text);
    lines.forEach((line, i) => {
      for (const [re, what] of ANYWHERE) if (re.test(line)) found.push(`src/${f}:${i + 1}: ${what}: ${line.trim()}`);
      for (const [re, what] of IN_CODE) if (re.test(code[i]!)) found.push(`src/${f}:${i + 1}: ${what}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

test('the rule catches what it is meant to catch', () => {
  const sample = [
    "const d = '/run/hopdump/ovs';",
    "if (ns === 'hd-lab-hv') x();",
    "const dev = 'vnet0';",
    "route('198.51.100.0/24');",
    '// vnet0 in a comment is an example',
  ];
  const code = codeLines(sample.join('\n'));
  const hits = sample.map(
    (line, i) => [...ANYWHERE.filter(([re]) => re.test(line)), ...IN_CODE.filter(([re]) => re.test(code[i]!))].length,
  );
  assert.deepEqual(hits, [1, 1, 1, 1, 0]);
});
