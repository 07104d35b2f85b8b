import { closeSync } from 'node:fs';
import type { HopPacket } from '../model/packet.js';
import { PcapngWriter } from '../pcap/writer.js';
import type { Report } from '../model/report.js';

/**
 * capture.pcapng: one interface per hop (if_name "netns/ifname",
 * if_description = role), nanosecond timestamps, the verdict as the section
 * comment and as comments on the last packets seen before the break, so that
 * Wireshark shows the story. `fd` is a file opened 0600 (report/files.ts openNew): captures
 * hold users' traffic. It is closed here.
 */
export function writeCapture(fd: number, report: Report, packets: HopPacket[]): void {
  const w = new PcapngWriter({ fd });
  try {
    w.section({ comments: [sectionComment(report)], application: `hopdump ${report.tool.version}` });
    // One interface per hop that was captured (a bridge that does not see transit has none).
    const hopsWithPackets = report.hops
      .map((_, i) => i)
      .filter((i) => report.hops[i]!.observed || packets.some((p) => p.hop === i));
    const ifIndex = new Map<number, number>();
    for (const i of hopsWithPackets) {
      const h = report.hops[i]!;
      const linkType = packets.find((p) => p.hop === i)?.linkType ?? 1;
      ifIndex.set(i, w.addInterface({ linkType, name: `${h.netns}/${h.ifname}`, description: h.role, tsresol: 9 }));
    }
    const comments = annotations(report, packets);
    const sorted = [...packets].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
    for (const p of sorted) {
      const c = comments.get(p);
      w.packet(ifIndex.get(p.hop) ?? 0, p.tsNs, p.data, p.length, c ? [c] : []);
    }
  } finally {
    w.close();
    closeSync(fd);
  }
}

function sectionComment(r: Report): string {
  const loss = r.loss
    ? `loss ${r.loss.direction}: last seen at ${r.loss.lastSeenHop ? `${r.loss.lastSeenHop.netns}/${r.loss.lastSeenHop.ifname}` : 'no hop'}, first missing at ${r.loss.firstMissingHop ? `${r.loss.firstMissingHop.netns}/${r.loss.firstMissingHop.ifname}` : 'none'}`
    : 'no loss';
  const cause = r.causes[0] ? `; top cause ${r.causes[0].id}: ${r.causes[0].summary}` : '';
  return `hopdump diagnose ${r.target.query} (${r.target.netns}/${r.target.ifname}): ${r.status}; ${loss}${cause}`;
}

/** Comments on the last packets seen at the loss hop: where they were going and what stopped them. */
function annotations(r: Report, packets: HopPacket[]): Map<HopPacket, string> {
  const out = new Map<HopPacket, string>();
  const last = r.loss?.lastSeenHop;
  if (!r.loss || !last) return out;
  const hopIdx = r.hops.findIndex((h) => h.netns === last.netns && h.ifname === last.ifname);
  const missing = r.loss.firstMissingHop
    ? `${r.loss.firstMissingHop.netns}/${r.loss.firstMissingHop.ifname}`
    : 'the next hop';
  const cause = r.causes[0] ? ` (${r.causes[0].id})` : '';
  const here = packets.filter((p) => p.hop === hopIdx && p.kind !== 'arp').slice(-3);
  for (const p of here) out.set(p, `hopdump: last seen here; never reached ${missing}${cause}`);
  return out;
}
