import { printableDeep } from '../util/printable.js';
import type { Path } from '../model/path.js';

/** `hopdump path` as a table, one row per hop, uplink first. */
export function renderPath(path: Path, seenFrom: string): string {
  // Names and strings from guests, containers and capture files: no control character reaches the terminal.
  return renderPathUnsafe(printableDeep(path), seenFrom);
}

function renderPathUnsafe(path: Path, seenFrom: string): string {
  const t = path.target;
  const lines = [`path to ${t.query} (${t.netns}/${t.ifname}), from the uplink of ${seenFrom}`];
  const rows = path.hops.map((h, i) => [
    String(i + 1),
    h.via === 'gap'
      ? '✗'
      : h.via === 'start'
        ? ''
        : h.via === 'veth'
          ? '⇄'
          : h.via === 'route'
            ? '→'
            : h.via === 'patch'
              ? '═'
              : h.via === 'macvlan'
                ? '≈'
                : '─',
    h.netns,
    h.ifname,
    h.kind,
    h.role,
    h.seesTransit ? 'yes' : 'no',
    [h.isTarget ? `target ${h.addresses.join(',')}`.trim() : '', h.note ?? ''].filter(Boolean).join('; '),
  ]);
  const header = ['#', '', 'netns', 'interface', 'kind', 'role', 'capture', 'notes'];
  const widths = header.map((hd, c) => Math.max(hd.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  lines.push(`  ${fmt(header)}`);
  for (const r of rows) lines.push(`  ${fmt(r)}`);
  if (!path.complete) lines.push('  path is broken at ✗: the target is not connected the way it should be');
  for (const n of path.notes) lines.push(`  note: ${n}`);
  for (const c of path.candidates ?? []) lines.push(`  candidate backend ${c.netns}/${c.ifname}: ${c.why}`);
  lines.push(
    '  via: ⇄ veth peer, ─ bridge, ═ OVS patch port, ≈ macvlan/macvtap on its lower device, → routed; capture: whether tcpdump there sees the transit traffic',
  );
  return `${lines.join('\n')}\n`;
}
