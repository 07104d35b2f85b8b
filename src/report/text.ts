import { printableDeep } from '../util/printable.js';
import type { Report } from '../model/report.js';

export interface TextOptions {
  color: boolean;
}

const ANSI = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  reset: '\x1b[0m',
};

/**
 * The terminal report: the verdict, the path as a ladder (one row per hop,
 * requests → and replies ← counted at each, the break marked), then the
 * causes with evidence and fixes. Plain text that pastes into a ticket.
 */
export function renderReport(r: Report, opts: TextOptions = { color: false }): string {
  // Names and strings from guests, containers and capture files: no control character reaches the terminal.
  return renderReportUnsafe(printableDeep(r), opts);
}

function renderReportUnsafe(r: Report, opts: TextOptions = { color: false }): string {
  const c = (code: keyof typeof ANSI, s: string) => (opts.color ? `${ANSI[code]}${s}${ANSI.reset}` : s);
  const lines: string[] = [];
  const status = r.status.toUpperCase();
  const statusColored =
    r.status === 'ok' ? c('green', status) : r.status === 'degraded' ? c('yellow', status) : c('red', status);
  const t = r.target;
  lines.push(
    c('bold', `hopdump ${r.mode} ${t.query}`) +
      ` → ${t.container && t.container !== t.query ? `container ${t.container} ` : ''}${t.netns}/${t.ifname}${t.address && t.address !== t.query ? ` (${t.address})` : ''}: ${statusColored}`,
  );
  for (const p of r.probes) {
    const what =
      p.kind === 'passive'
        ? 'watched'
        : `${p.kind}${p.port ? `:${p.port}` : ''}${p.size ? ` size ${p.size}` : ''} to ${p.address}`;
    lines.push(
      `  probe ${what} from ${p.from}: ${p.kind === 'passive' ? p.detail : `${p.answered}/${p.sent} answered (${p.outcome})`}`,
    );
  }
  lines.push('');

  const lossAt = (netns: string, ifname: string) =>
    r.loss?.firstMissingHop?.netns === netns && r.loss.firstMissingHop.ifname === ifname;
  const rows = r.hops.map((h, i) => {
    const mark = lossAt(h.netns, h.ifname) ? '✗' : ' ';
    const name = `${h.netns}/${h.ifname}`;
    const traced = traceCell(r, h.ifname, r.path.hops[i]?.kind === 'openvswitch');
    const counts = h.observed
      ? [
          String(h.toTarget),
          String(h.fromTarget),
          `${h.arpRequests}/${h.arpReplies}`,
          h.kernelDrops ? `${h.kernelDrops} dropped by capture` : '',
        ]
      : ['·', '·', '·', traced ?? h.notObservedReason ?? 'not observed'];
    return [mark, String(i + 1), name, h.role, ...counts];
  });
  const header = [' ', '#', 'hop', 'role', '→ to', '← from', 'arp q/r', ''];
  const widths = header.map((hd, col) => Math.max(hd.length, ...rows.map((row) => row[col]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((cell, col) =>
        col === row.length - 1 ? cell : col >= 4 && col <= 6 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!),
      )
      .join('  ')
      .trimEnd();
  lines.push(`  ${fmt(header)}`);
  for (const row of rows) {
    const text = `  ${fmt(row)}`;
    lines.push(row[0] === '✗' ? c('red', text) : text);
  }
  // A silent guest's target came from its prefix: which backends it may be behind, and why.
  for (const cand of r.path.candidates ?? [])
    lines.push(`  candidate backend ${cand.netns}/${cand.ifname}: ${cand.why}`);
  lines.push('');
  if (r.loss) {
    const l = r.loss;
    const last = l.lastSeenHop ? `${l.lastSeenHop.netns}/${l.lastSeenHop.ifname} (${l.lastSeenHop.role})` : 'no hop';
    const miss = l.firstMissingHop
      ? `${l.firstMissingHop.netns}/${l.firstMissingHop.ifname} (${l.firstMissingHop.role})`
      : 'none';
    lines.push(`loss: ${l.direction}: last seen at ${last}, first missing at ${miss}`);
  } else {
    lines.push('loss: none');
  }
  for (const s of r.instead) lines.push(`instead: ${s}`);
  // A few packets followed hop by hop: where they were seen, when, and what changed.
  const shown = r.traces.filter((t) => t.seenAt.length > 0).slice(0, 3);
  if (shown.length > 0) {
    lines.push('', 'packets followed across hops:');
    for (const t of shown) {
      lines.push(`  ${t.direction === 'to-target' ? '→' : '←'} ${t.summary}`);
      const seen = t.seenAt.map((s) => {
        const h = r.hops[s.hop];
        return `${h ? `${h.netns}/${h.ifname}` : `hop ${s.hop + 1}`} ${s.ts}${s.latencyUs ? ` (+${s.latencyUs} µs)` : ''}`;
      });
      lines.push(...wrapList('     seen at: ', seen, 100));
      for (const ch of t.changes) lines.push(`     changed: ${ch}`);
    }
  }
  if (r.ovsTraces?.length) {
    lines.push('', 'inside Open vSwitch (ovs-appctl ofproto/trace of the probe flows):');
    for (const t of r.ovsTraces) {
      const verdict =
        t.verdict === 'error'
          ? `error: ${t.excerpt[0] ?? ''}`
          : t.verdict === 'drop'
            ? 'DROP'
            : `output ${t.outputs.join(', ')}${t.flooded ? ' (flooded: no learned port)' : ''}`;
      lines.push(
        `  ${t.direction === 'to-target' ? '→' : '←'} ${t.bridge} ${t.proto} from ${t.inPort}${t.synthesized ? (t.direction === 'to-target' ? ' (the flow the request would be)' : ' (reply made from the request)') : ''}: ${verdict}`,
      );
      const steps = t.rules.map(
        (x) =>
          `${x.bridge} table ${x.table}${x.priority !== undefined ? ` priority ${x.priority}` : ''}${x.match ? ` ${x.match}` : ''}: ${x.actions.join('; ') || 'drop'}`,
      );
      for (const step of steps) lines.push(...wrapList('     ', [step], 100));
    }
  }
  if (r.ovnTraces?.length) {
    lines.push('', 'OVN logical pipeline (ovn-trace of the same flows):');
    for (const t of r.ovnTraces) {
      const end =
        t.verdict === 'drop' && t.dropStage
          ? `DROP at ${t.dropStage.pipeline} table ${t.dropStage.table} ${t.dropStage.stage} (${t.dropStage.match})`
          : `output to ${t.outport ?? '?'}`;
      lines.push(
        `  ${t.direction === 'to-target' ? '→' : '←'} ${t.datapath} ${t.proto} from lport ${t.inport}: ${end}`,
      );
    }
  }
  if (r.causes.length > 0) {
    lines.push('', 'causes:');
    r.causes.forEach((cause, i) => {
      const where = cause.device ? ` at ${cause.device.netns}/${cause.device.ifname}` : '';
      lines.push(
        `  ${i + 1}. ${c('bold', cause.id)} (${Math.round(cause.confidence * 100)}%)${where}: ${cause.summary}`,
      );
      for (const e of cause.evidence) lines.push(`     evidence: ${e}`);
      for (const f of cause.fix) lines.push(`     fix: ${f}`);
    });
  } else if (r.status === 'ok') {
    lines.push('causes: none');
  }
  for (const n of r.notices) lines.push(c('dim', `notice: ${n}`));
  if (r.captureFile) lines.push('', `capture: ${r.captureFile}`);
  return `${lines.join('\n')}\n`;
}

function wrapList(prefix: string, items: string[], width: number): string[] {
  const out: string[] = [];
  let line = prefix;
  for (const [i, item] of items.entries()) {
    const piece = i === 0 ? item : `, ${item}`;
    if (line.length + piece.length > width && line !== prefix) {
      out.push(line);
      line = `${' '.repeat(prefix.length)}${item}`;
    } else {
      line += piece;
    }
  }
  out.push(line);
  return out;
}

/** An OVS bridge hop's row: what ofproto/trace says this bridge does with each direction. */
function traceCell(r: Report, bridge: string, isOvs: boolean): string | undefined {
  if (!isOvs) return undefined;
  const ts = (r.ovsTraces ?? []).filter((t) => t.rules.some((x) => x.bridge === bridge));
  if (ts.length === 0) return undefined;
  const say = (d: 'to-target' | 'from-target') => {
    const list = ts.filter((x) => x.direction === d);
    const t = list.find((x) => x.verdict !== 'output') ?? list.find((x) => x.proto !== 'arp') ?? list[0];
    if (!t) return undefined;
    const mine = t.rules.filter((x) => x.bridge === bridge);
    const lastHere = t.rules[t.rules.length - 1]?.bridge === bridge;
    const after = t.rules
      .slice(t.rules.lastIndexOf(mine[mine.length - 1]!) + 1)
      .find((x) => x.bridge !== bridge)?.bridge;
    const arrow = d === 'to-target' ? '→' : '←';
    if (!lastHere && after) return `${arrow} patch to ${after}`;
    const lastRule = mine[mine.length - 1];
    const dropsHere =
      lastHere &&
      lastRule !== undefined &&
      lastRule.actions.filter((a) => !a.startsWith('->')).every((a) => a === 'drop');
    if (t.verdict === 'drop' || dropsHere) return `${arrow} DROP in table ${lastRule?.table ?? '?'}`;
    return `${arrow} ${t.verdict === 'output' ? t.outputs.join(',') : t.verdict}`;
  };
  return `ofproto/trace: ${[say('to-target'), say('from-target')].filter(Boolean).join('  ')}`;
}
