import type { HopPacket } from '../model/packet.js';
import type { Hop } from '../model/path.js';
import type { Report } from '../model/report.js';

/**
 * report.html: one self-contained file (styles and the one small script inline, nothing fetched;
 * a Content-Security-Policy that forbids fetching) that shows a diagnose run: the path as a
 * diagram with the broken segment, per-hop counts and a sparkline of packets over the window, the
 * packets followed across hops, the causes with evidence and copyable fixes, and the capture.
 * Every text from the host (names, summaries, comments) is escaped (escapeHtml). Elements tests
 * look for carry data-testid. No colour is the only carrier of meaning: the broken segment has a
 * mark (✗) and a word, hops not observed are dashed and say why.
 */

export interface HtmlOptions {
  /** The run's packets (their capture times per hop make the sparklines). */
  packets?: HopPacket[];
  /** Where the capture is, relative to the report (the run's folder); default capture.pcapng. */
  captureHref?: string;
}

export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

/** The loss segment as path hop indexes: packets last seen at `from`, first missing at `to`. */
function lossSegment(r: Report): { from: number; to: number } | undefined {
  const loss = r.loss;
  if (!loss) return undefined;
  const idx = (h: { netns: string; ifname: string } | null) =>
    h ? r.path.hops.findIndex((x) => x.netns === h.netns && x.ifname === h.ifname) : -1;
  const from = idx(loss.lastSeenHop);
  const to = idx(loss.firstMissingHop);
  if (from < 0 && to < 0) return undefined;
  return { from, to };
}

/** Packets per hop in `bins` equal slices of the window (first to last packet of the run). */
export function sparkCounts(packets: HopPacket[], hops: number, bins = 24): number[][] {
  const out = Array.from({ length: hops }, () => new Array<number>(bins).fill(0));
  if (packets.length === 0) return out;
  let lo = packets[0]!.tsNs;
  let hi = lo;
  for (const p of packets) {
    if (p.tsNs < lo) lo = p.tsNs;
    if (p.tsNs > hi) hi = p.tsNs;
  }
  const span = Number(hi - lo) || 1;
  for (const p of packets) {
    const row = out[p.hop];
    if (!row) continue;
    const b = Math.min(bins - 1, Math.floor((Number(p.tsNs - lo) / span) * bins));
    row[b]!++;
  }
  return out;
}

function sparkline(counts: number[]): string {
  const max = Math.max(1, ...counts);
  const w = 96;
  const h = 20;
  const step = w / Math.max(1, counts.length - 1);
  const pts = counts.map((c, i) => `${(i * step).toFixed(1)},${(h - 1 - (c / max) * (h - 2)).toFixed(1)}`).join(' ');
  const total = counts.reduce((a, b) => a + b, 0);
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${total} packets over the window"><polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
}

/** The device kind as a shape, centred on (x, y). */
function shape(kind: Hop['kind'], x: number, y: number): string {
  switch (kind) {
    case 'bridge':
      return `<rect x="${x - 26}" y="${y - 16}" width="52" height="32" rx="2" class="dev"/>`;
    case 'openvswitch':
      return `<polygon points="${[
        [x - 26, y],
        [x - 13, y - 18],
        [x + 13, y - 18],
        [x + 26, y],
        [x + 13, y + 18],
        [x - 13, y + 18],
      ]
        .map((p) => p.join(','))
        .join(' ')}" class="dev"/>`;
    case 'tap':
    case 'tun':
    case 'macvtap':
      return `<rect x="${x - 24}" y="${y - 16}" width="48" height="32" rx="14" class="dev"/>`;
    case 'physical':
    case 'bond':
    case 'vlan':
      return `<rect x="${x - 24}" y="${y - 16}" width="48" height="32" rx="6" class="dev phys"/>`;
    case 'vxlan':
    case 'geneve':
      return `<polygon points="${x - 26},${y + 16} ${x - 16},${y - 16} ${x + 26},${y - 16} ${x + 16},${y + 16}" class="dev"/>`;
    default:
      return `<circle cx="${x}" cy="${y}" r="18" class="dev"/>`;
  }
}

function diagram(r: Report, seg: { from: number; to: number } | undefined): string {
  const hops = r.path.hops;
  const gap = 150;
  const x0 = 80;
  const y = 92;
  const width = x0 * 2 + Math.max(0, hops.length - 1) * gap;
  const xs = hops.map((_, i) => x0 + i * gap);
  const parts: string[] = [];
  // Namespaces (and guests) as boxes around their hops.
  let i = 0;
  while (i < hops.length) {
    let j = i;
    while (j + 1 < hops.length && hops[j + 1]!.netns === hops[i]!.netns) j++;
    const left = xs[i]! - 62;
    const right = xs[j]! + 62;
    parts.push(
      `<g data-testid="netns-box"><rect x="${left}" y="22" width="${right - left}" height="150" rx="8" class="ns"/><text x="${left + 8}" y="38" class="nslabel">${e(hops[i]!.netns)}</text></g>`,
    );
    i = j + 1;
  }
  // Segments between hops: broken from the last hop that saw the packets to the first that did
  // not (hops between them, e.g. a bridge that does not see transit, are inside the break), with
  // one mark and a word.
  const lo = seg ? Math.min(seg.from < 0 ? seg.to - 1 : seg.from, seg.to < 0 ? seg.from + 1 : seg.to) : -1;
  const hi = seg ? Math.max(seg.from < 0 ? seg.to - 1 : seg.from, seg.to < 0 ? seg.from + 1 : seg.to) : -1;
  const brokenLines: string[] = [];
  for (let k = 0; k + 1 < hops.length; k++) {
    const x1 = xs[k]! + 28;
    const x2 = xs[k + 1]! - 28;
    if (seg && k >= lo && k < hi)
      brokenLines.push(`<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" class="seg broken"/>`);
    else
      parts.push(
        `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" class="seg" data-testid="segment" data-from="${k}" data-to="${k + 1}"/>`,
      );
  }
  if (seg && brokenLines.length > 0) {
    const to = seg.to >= 0 ? seg.to : hi;
    // The mark sits on the segment into the first hop that missed the packets.
    const into = seg.from <= to ? to - 1 : to;
    const mid = (xs[into]! + xs[into + 1]!) / 2;
    parts.push(
      `<g data-testid="segment-broken" data-from="${seg.from}" data-to="${seg.to}">${brokenLines.join('')}<rect x="${mid - 11}" y="${y - 11}" width="22" height="22" class="markbg"/><text x="${mid}" y="${y + 6}" text-anchor="middle" class="breakmark">✗</text><text x="${mid}" y="${y - 16}" text-anchor="middle" class="breakword">packets lost here</text></g>`,
    );
  }
  hops.forEach((h, k) => {
    const counts = r.hops[k];
    const observed = counts?.observed ?? false;
    const why = counts?.notObservedReason ?? (h.seesTransit ? '' : 'not capturable here');
    parts.push(
      `<g data-testid="hop-${k}" class="hop${observed ? '' : ' unobserved'}"><title>${e(`${h.netns}/${h.ifname} (${h.kind}, ${h.role})${observed ? '' : `: not observed: ${why}`}`)}</title>${shape(h.kind, xs[k]!, y)}<text x="${xs[k]}" y="${y + 34}" text-anchor="middle" class="ifname">${e(h.ifname)}</text><text x="${xs[k]}" y="${y + 48}" text-anchor="middle" class="role">${e(h.role)}${observed ? '' : ' · not observed'}</text></g>`,
    );
  });
  return `<svg data-testid="path-diagram" class="diagram" viewBox="0 0 ${width} 190" width="${width}" height="190" role="img" aria-label="${e(`path from ${hops[0]?.ifname ?? '?'} to ${r.target.ifname}`)}">${parts.join('')}</svg>`;
}

const STATUS_WORD: Record<Report['status'], string> = { ok: 'OK', degraded: 'DEGRADED', broken: 'BROKEN' };

export function renderHtml(r: Report, o: HtmlOptions = {}): string {
  const seg = lossSegment(r);
  const spark = sparkCounts(o.packets ?? [], r.path.hops.length);
  const href = o.captureHref ?? 'capture.pcapng';
  const hopName = (k: number) => {
    const h = r.path.hops[k];
    return h ? `${h.netns}/${h.ifname}` : `hop ${k}`;
  };
  const hopRows = r.path.hops
    .map((h, k) => {
      const c = r.hops[k];
      const mark =
        seg && seg.to === k ? '<span class="lost">✗ first missing</span>' : seg && seg.from === k ? 'last seen' : '';
      return `<tr data-testid="hop-row-${k}"><td>${k + 1}</td><td>${e(`${h.netns}/${h.ifname}`)}</td><td>${e(h.role)}</td><td class="num">${c?.observed ? c.toTarget : '·'}</td><td class="num">${c?.observed ? c.fromTarget : '·'}</td><td>${c?.observed ? sparkline(spark[k]!) : e(c?.notObservedReason ?? (h.seesTransit ? '' : 'not capturable here'))}</td><td>${mark}</td></tr>`;
    })
    .join('');
  const journeys = r.traces
    .map((t) => {
      const seen = t.seenAt
        .map(
          (s) =>
            `${e(hopName(s.hop))} ${e(s.ts)}${s.latencyUs !== undefined ? ` <span class="lat">(+${e(s.latencyUs)} µs)</span>` : ''}`,
        )
        .join(' → ');
      return `<tr><td>${t.direction === 'to-target' ? '→' : '←'}</td><td class="mono">${e(t.summary)}</td><td>${seen}${t.changes.length ? `<div class="changes">${t.changes.map(e).join('; ')}</div>` : ''}</td></tr>`;
    })
    .join('');
  const causes = r.causes
    .map(
      (c, k) =>
        `<li data-testid="cause-${k}" data-cause="${e(c.id)}"><div class="cause"><b>${e(c.id)}</b> (${Math.round(c.confidence * 100)} %)${c.device ? ` at <span class="mono">${e(`${c.device.netns}/${c.device.ifname}`)}</span>` : ''}: ${e(c.summary)}</div>${c.evidence.length ? `<ul class="evidence">${c.evidence.map((x) => `<li class="mono">${e(x)}</li>`).join('')}</ul>` : ''}${c.fix.length ? `<div class="fix"><pre data-testid="fix-block">${c.fix.map(e).join('\n')}</pre><button type="button" class="copy" data-testid="copy-fix">copy</button></div>` : ''}</li>`,
    )
    .join('');
  const probes = r.probes
    .map(
      (p) =>
        `<li class="mono">${e(p.kind)}${p.port ? `:${e(p.port)}` : ''} to ${e(p.address)} from ${e(p.from)}: ${e(p.answered)}/${e(p.sent)} answered (${e(p.outcome)})</li>`,
    )
    .join('');
  const lossText = r.loss
    ? `${e(r.loss.direction)}: last seen at ${e(r.loss.lastSeenHop ? `${r.loss.lastSeenHop.netns}/${r.loss.lastSeenHop.ifname}` : 'no hop')}, first missing at ${e(r.loss.firstMissingHop ? `${r.loss.firstMissingHop.netns}/${r.loss.firstMissingHop.ifname}` : '—')}`
    : 'no loss between the hops that were captured';
  const title = `hopdump ${r.mode} ${r.target.query}: ${STATUS_WORD[r.status]}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1><span data-testid="status" class="status ${r.status}">${STATUS_WORD[r.status]}</span> ${e(r.target.query)} → <span class="mono">${e(`${r.target.netns}/${r.target.ifname}`)}</span></h1>
<p class="meta">hopdump ${e(r.tool.version)} · ${e(r.mode)} · started ${e(r.startedAt)} · ${e(Math.round(r.timing.totalMs))} ms</p>
</header>
<section><h2>Path</h2><div class="scroll">${diagram(r, seg)}</div>
<p data-testid="loss">${lossText}</p></section>
<section><h2>Hops</h2><div class="scroll"><table data-testid="hops-table"><thead><tr><th>#</th><th>hop</th><th>role</th><th>→ to</th><th>← from</th><th>packets over the window</th><th></th></tr></thead><tbody>${hopRows}</tbody></table></div></section>
<section><h2>Causes</h2>${causes ? `<ol data-testid="causes">${causes}</ol>` : '<p data-testid="causes">none: nothing is broken</p>'}</section>
${probes ? `<section><h2>Probes</h2><ul>${probes}</ul></section>` : ''}
<section><h2>Packets followed across hops</h2>${journeys ? `<div class="scroll"><table data-testid="journey-table"><tbody>${journeys}</tbody></table></div>` : '<p>none</p>'}</section>
${r.instead.length ? `<section><h2>Instead</h2><ul>${r.instead.map((x) => `<li>${e(x)}</li>`).join('')}</ul></section>` : ''}
${r.notices.length ? `<section><h2>Notices</h2><ul>${r.notices.map((x) => `<li>${e(x)}</li>`).join('')}</ul></section>` : ''}
<section><h2>Capture</h2><p><a data-testid="capture-link" href="${e(href)}" download>capture.pcapng</a> (one interface per hop; open it in Wireshark)${r.captureFile ? ` — written to <span class="mono" data-testid="capture-path">${e(r.captureFile)}</span>` : ''}</p></section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const SCRIPT = `document.querySelectorAll('button.copy').forEach(function (b) {
  b.addEventListener('click', function () {
    var text = b.previousElementSibling.textContent;
    var done = function () { b.textContent = 'copied'; setTimeout(function () { b.textContent = 'copy'; }, 1500); };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () {});
  });
});`;

const CSS = `
:root { --fg: #1b1f24; --bg: #ffffff; --muted: #5b6470; --line: #8a939e; --box: #f3f5f7; --bad: #b3261e; --ok: #1b7f3b; --warn: #9a6700; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #15181c; --muted: #9aa4ae; --line: #7d8793; --box: #1f242a; --bad: #ff6b61; --ok: #4cc27a; --warn: #e0b341; --code: #1f242a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 12px; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.3em; margin: 0.3em 0; } h2 { font-size: 1.1em; border-bottom: 1px solid var(--line); margin-top: 1.4em; }
.meta, .role, .nslabel { color: var(--muted); }
.mono, pre, .ifname { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.status { padding: 0 6px; border: 2px solid currentColor; border-radius: 4px; }
.status.ok { color: var(--ok); } .status.degraded { color: var(--warn); } .status.broken { color: var(--bad); }
.scroll { overflow-x: auto; }
svg.diagram { max-width: none; }
.diagram text { fill: var(--fg); font-size: 12px; } .diagram .role, .diagram .nslabel { fill: var(--muted); font-size: 11px; }
.ns { fill: var(--box); stroke: var(--line); stroke-width: 1; }
.dev { fill: var(--bg); stroke: var(--fg); stroke-width: 2; } .dev.phys { stroke-width: 3; }
.unobserved .dev { stroke-dasharray: 5 4; stroke: var(--muted); }
.seg { stroke: var(--fg); stroke-width: 2; } .seg.broken { stroke: var(--bad); stroke-width: 3; stroke-dasharray: 6 4; }
.markbg { fill: var(--bg); } .breakmark { fill: var(--bad) !important; font-size: 18px !important; font-weight: bold; } .breakword { fill: var(--bad) !important; }
table { border-collapse: collapse; width: 100%; } td, th { padding: 3px 6px; border-bottom: 1px solid var(--box); text-align: left; vertical-align: top; }
.num { text-align: right; } .lost { color: var(--bad); font-weight: bold; } .lat { color: var(--muted); }
.spark { color: var(--fg); vertical-align: middle; }
.evidence { margin: 0.2em 0 0.4em 0; } .changes { color: var(--muted); }
.fix { position: relative; } pre { background: var(--code); padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
button.copy { position: absolute; top: 4px; right: 4px; font: inherit; font-size: 12px; }
@media (max-width: 600px) { body { font-size: 14px; padding: 6px; } td, th { padding: 2px 3px; } }
@media print { button.copy { display: none; } .scroll { overflow: visible; } body { max-width: none; } a { color: inherit; } }
`;
