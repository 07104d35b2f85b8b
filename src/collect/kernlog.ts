import type { PromiscLog } from '../model/evidence.js';
import type { Host } from '../host/host.js';

/**
 * The kernel's "DEV: entered/left promiscuous mode" lines, counted per device
 * (seed 001: a device that entered and never left is left promiscuous). The
 * first source that answers wins. The log has no namespace: a name may stand
 * for devices in several namespaces.
 */
export async function promiscLog(host: Host): Promise<PromiscLog | undefined> {
  const sources: Array<{ source: string; argv: string[] }> = [
    { source: 'journalctl -k', argv: ['journalctl', '-k', '-o', 'short', '--no-pager', '-q', '-n', '20000'] },
    { source: '/var/log/kern.log', argv: ['tail', '-n', '20000', '/var/log/kern.log'] },
    { source: '/var/log/messages', argv: ['tail', '-n', '20000', '/var/log/messages'] },
    { source: 'dmesg', argv: ['dmesg'] },
  ];
  for (const s of sources) {
    try {
      const r = await host.run(s.argv, { okCodes: 'any', timeoutMs: 5000 });
      if (r.code !== 0 || !r.stdout.trim()) continue;
      return { source: s.source, devices: countPromisc(r.stdout) };
    } catch {
      /* next source */
    }
  }
  return undefined;
}

export function countPromisc(text: string): Map<string, { entered: number; left: number }> {
  const devices = new Map<string, { entered: number; left: number }>();
  for (const m of text.matchAll(/\s(\S+?)(?: \(unregistering\))?: (entered|left) promiscuous mode/g)) {
    const d = devices.get(m[1]!) ?? { entered: 0, left: 0 };
    if (m[2] === 'entered') d.entered++;
    else d.left++;
    devices.set(m[1]!, d);
  }
  return devices;
}
