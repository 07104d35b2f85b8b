import type { Host } from '../host/host.js';
import { instanceOf, labNetns } from './names.js';
import type { LabSymptom, LabTarget, LabTopology } from './types.js';

export interface SymptomResult {
  /** True when the symptom is present (the path is broken the way the fault claims). */
  present: boolean;
  detail: string;
}

/**
 * Checks one symptom from the lab's client with ordinary tools (ping, nc,
 * arping), the way an operator would confirm a report.
 */
export async function checkSymptom(
  host: Host,
  topology: LabTopology,
  clientNetns: string,
  symptom: LabSymptom,
): Promise<SymptomResult> {
  const target = topology.targets.find((t) => t.name === symptom.target);
  if (!target) throw new Error(`topology ${topology.name} has no target ${symptom.target}`);
  const instance = instanceOf(clientNetns);
  const netns = symptom.from && instance ? labNetns(instance, symptom.from) : clientNetns;
  // A symptom of an IPv6-only fault is looked for over IPv6 (ping picks ICMPv6 from the address).
  const address = symptom.family === 6 ? target.address6 : target.address;
  if (!address) throw new Error(`target ${target.name} of ${topology.name} has no IPv6 address`);
  const run = (argv: string[]) => host.run(argv, { netns, okCodes: 'any', timeoutMs: 20_000 });
  switch (symptom.kind) {
    case 'ping-fails': {
      const r = await run(['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', address]);
      return { present: r.code !== 0, detail: lossLine(r.stdout) };
    }
    case 'large-ping-fails': {
      const r = await run([
        'ping',
        '-n',
        '-q',
        '-c',
        '3',
        '-i',
        '0.2',
        '-W',
        '1',
        '-M',
        'do',
        '-s',
        String(symptom.size),
        address,
      ]);
      return { present: r.code !== 0, detail: `${symptom.size}-byte payload, DF: ${lossLine(r.stdout)}` };
    }
    case 'ping-loss': {
      const r = await run(['ping', '-n', '-q', '-c', '20', '-i', '0.05', '-W', '1', address]);
      const loss = Number(r.stdout.match(/([\d.]+)% packet loss/)?.[1] ?? 100);
      return { present: loss >= 30, detail: lossLine(r.stdout) };
    }
    case 'tcp-fails':
      return tcp(run, address, target.port);
    case 'published-tcp-fails':
      return tcp(run, target.published!.address, target.published!.port);
    case 'two-macs-answer': {
      // arping -d: exit 1 when answers come from more than one MAC.
      const r = await run(['arping', '-d', '-c', '4', '-W', '0.3', '-i', 'eth0', target.address]);
      const macs = [...new Set([...r.stdout.matchAll(/from ([0-9a-f:]{17})/g)].map((m) => m[1]))];
      return { present: r.code === 1 || macs.length > 1, detail: `ARP answers from ${macs.join(', ') || 'nobody'}` };
    }
  }
}

async function tcp(
  run: (argv: string[]) => Promise<{ code: number; stderr: string }>,
  address: string,
  port: number,
): Promise<SymptomResult> {
  const r = await run(['nc', '-z', '-w', '2', address, String(port)]);
  return { present: r.code !== 0, detail: `tcp connect ${address}:${port} ${r.code === 0 ? 'succeeded' : 'failed'}` };
}

function lossLine(stdout: string): string {
  return stdout.match(/\d+ packets transmitted.*/)?.[0] ?? 'no ping summary';
}

/** The symptoms that must all be absent on a healthy lab for a target. */
export function healthySymptoms(target: LabTarget): LabSymptom[] {
  const list: LabSymptom[] = [
    { kind: 'ping-fails', target: target.name },
    { kind: 'tcp-fails', target: target.name },
    { kind: 'large-ping-fails', target: target.name, size: 1472 },
  ];
  if (target.published) list.push({ kind: 'published-tcp-fails', target: target.name });
  return list;
}
