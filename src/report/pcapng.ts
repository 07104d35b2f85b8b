import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import type { HopPacket } from '../correlate/types.js';
import type { Report } from './schema.js';

/**
 * capture.pcapng: one interface per hop (if_name "netns/ifname",
 * if_description = role), nanosecond timestamps, the verdict as the section
 * comment and as comments on the last packets seen before the break, so that
 * Wireshark shows the story. Written 0600: captures hold users' traffic.
 */
export function writeCapture(file: string, report: Report, packets: HopPacket[]): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    // One interface per hop that was captured (a bridge that does not see transit has none).
    const hopsWithPackets = report.hops.map((_, i) => i).filter((i) => report.hops[i]!.observed || packets.some((p) => p.hop === i));
    const ifIndex = new Map<number, number>();
    const chunks: Buffer[] = [shb(sectionComment(report))];
    for (const i of hopsWithPackets) {
      const h = report.hops[i]!;
      ifIndex.set(i, ifIndex.size);
      const linkType = packets.find((p) => p.hop === i)?.linkType ?? 1;
      chunks.push(idb(linkType, `${h.netns}/${h.ifname}`, h.role));
    }
    const comments = annotations(report, packets);
    const sorted = [...packets].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
    for (const p of sorted) chunks.push(epb(ifIndex.get(p.hop) ?? 0, p.tsNs, p.data, p.length, comments.get(p)));
    for (const c of chunks) writeSync(fd, c);
  } finally {
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
  const missing = r.loss.firstMissingHop ? `${r.loss.firstMissingHop.netns}/${r.loss.firstMissingHop.ifname}` : 'the next hop';
  const cause = r.causes[0] ? ` (${r.causes[0].id})` : '';
  const here = packets.filter((p) => p.hop === hopIdx && p.kind !== 'arp').slice(-3);
  for (const p of here) out.set(p, `hopdump: last seen here; never reached ${missing}${cause}`);
  return out;
}

// --- pcapng blocks (little-endian) -----------------------------------------

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + value.length + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

const endOfOptions = () => Buffer.alloc(4);

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

function shb(comment: string): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(0x1a2b3c4d, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, Buffer.concat([fixed, option(1, Buffer.from(comment)), option(4, Buffer.from('hopdump')), endOfOptions()]));
}

function idb(linkType: number, name: string, description: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(linkType, 0);
  fixed.writeUInt32LE(262144, 4);
  return block(
    0x00000001,
    Buffer.concat([fixed, option(2, Buffer.from(name)), option(3, Buffer.from(description)), option(9, Buffer.from([9])), endOfOptions()]),
  );
}

function epb(ifIndex: number, tsNs: bigint, data: Uint8Array, wireLength: number, comment?: string): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(ifIndex, 0);
  fixed.writeUInt32LE(Number(tsNs >> 32n), 4);
  fixed.writeUInt32LE(Number(tsNs & 0xffffffffn), 8);
  fixed.writeUInt32LE(data.length, 12);
  fixed.writeUInt32LE(wireLength, 16);
  const parts: Buffer[] = [fixed, Buffer.from(data), Buffer.alloc(pad4(data.length))];
  if (comment) parts.push(option(1, Buffer.from(comment)), endOfOptions());
  return block(0x00000006, Buffer.concat(parts));
}
