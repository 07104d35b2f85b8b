import { sleep } from '../util/sleep.js';
import type { Host } from '../host/host.js';

export type ProbeKind = 'icmp' | 'tcp' | 'udp' | 'arp';

export interface ProbeSpec {
  kind: ProbeKind;
  /** Where the probe is sent: the target's address, or another one (a published port's). */
  address: string;
  port?: number;
  /** ICMP payload size (ping -s); with it, DF is set (ping -M do) to find MTU problems. */
  size?: number;
  count: number;
}

export type ProbeOutcome = 'answered' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ProbeResult {
  spec: ProbeSpec;
  /** The probe as an operator would type it. */
  command: string;
  sent: number;
  answered: number;
  outcome: ProbeOutcome;
  detail: string;
  startedAt: number;
  endedAt: number;
}

/** `icmp`, `tcp:PORT[@ADDR]`, `udp:PORT[@ADDR]`, `arp`; undefined when malformed. */
export function parseProbe(text: string, targetAddress: string, count: number, size?: number): ProbeSpec | undefined {
  if (text === 'icmp') return { kind: 'icmp', address: targetAddress, count, ...(size ? { size } : {}) };
  if (text === 'arp') return { kind: 'arp', address: targetAddress, count };
  const m = text.match(/^(tcp|udp):(\d{1,5})(?:@([0-9a-fA-F.:]+))?$/);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { kind: m[1] as 'tcp' | 'udp', address: m[3] ?? targetAddress, port, count };
}

/**
 * Sends one probe series from a namespace (or the host) with the ordinary
 * tools, so that what hopdump sent is what an operator would have sent.
 */
export async function runProbe(host: Host, spec: ProbeSpec, netns: string | undefined): Promise<ProbeResult> {
  const startedAt = Date.now();
  const opts = { ...(netns ? { netns } : {}), okCodes: 'any' as const, timeoutMs: 10_000 + spec.count * 3000 };
  const v6 = spec.address.includes(':');
  let argv: string[];
  switch (spec.kind) {
    case 'icmp':
      argv = ['ping', ...(v6 ? ['-6'] : []), '-n', '-c', String(spec.count), '-i', '0.2', '-W', '1'];
      if (spec.size) argv.push('-s', String(spec.size), '-M', 'do');
      argv.push(spec.address);
      break;
    case 'arp':
      argv = ['arping', '-c', String(spec.count), '-W', '0.2', '-w', String(spec.count * 0.2 + 1), spec.address];
      break;
    case 'tcp':
    case 'udp': {
      // One connection attempt per count, 100 ms apart, each waiting up to 2 s;
      // nc -v says how each ended.
      let answered = 0;
      let refused = 0;
      let unreachable = 0;
      const details: string[] = [];
      const base = [
        'nc',
        '-v',
        '-n',
        ...(spec.kind === 'udp' ? ['-u'] : []),
        '-w',
        '2',
        '-z',
        spec.address,
        String(spec.port),
      ];
      const results = await Promise.all(
        Array.from({ length: spec.count }, async (_, i) => {
          await sleep(i * 100);
          return host.run(base, opts);
        }),
      );
      for (const r of results) {
        const text = `${r.stdout}${r.stderr}`.trim();
        if (r.code === 0) answered++;
        else if (/refused/i.test(text)) refused++;
        else if (/unreachable|No route/i.test(text)) unreachable++;
        details.push(text.split('\n')[0] ?? '');
      }
      const outcome: ProbeOutcome =
        answered === spec.count ? 'answered' : refused > 0 ? 'refused' : unreachable > 0 ? 'unreachable' : 'timeout';
      return {
        spec,
        command: base.join(' '),
        sent: spec.count,
        answered,
        outcome: spec.kind === 'udp' && outcome === 'answered' ? 'answered' : outcome,
        detail: details[details.length - 1] ?? '',
        startedAt,
        endedAt: Date.now(),
      };
    }
  }
  const r = await host.run(argv, opts);
  const out = `${r.stdout}\n${r.stderr}`;
  let sent: number;
  let answered: number;
  let outcome: ProbeOutcome;
  if (spec.kind === 'icmp') {
    const m = out.match(/(\d+) packets transmitted, (\d+) received/);
    sent = m ? Number(m[1]) : 0;
    answered = m ? Number(m[2]) : 0;
    outcome =
      answered > 0
        ? 'answered'
        : /Unreachable|Frag needed|too long/i.test(out)
          ? 'unreachable'
          : m
            ? 'timeout'
            : 'error';
  } else {
    const m = out.match(/(\d+) packets transmitted, (\d+) packets received/);
    sent = m ? Number(m[1]) : spec.count;
    answered = m ? Number(m[2]) : 0;
    outcome = answered > 0 ? 'answered' : m ? 'timeout' : 'error';
  }
  const summary = out.match(/\d+ packets transmitted.*/)?.[0] ?? (out.trim().split('\n')[0] || `exit ${r.code}`);
  return { spec, command: argv.join(' '), sent, answered, outcome, detail: summary, startedAt, endedAt: Date.now() };
}
