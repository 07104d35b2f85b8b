/** A classic pcap file (little-endian, microseconds, Ethernet) holding the given records. */
export function pcapFile(
  records: Array<{ data: Uint8Array; sec?: number; usec?: number; incl?: number; orig?: number }>,
): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const recs = records.map((r) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.sec ?? 0, 0);
    h.writeUInt32LE(r.usec ?? 0, 4);
    h.writeUInt32LE(r.incl ?? r.data.length, 8);
    h.writeUInt32LE(r.orig ?? r.data.length, 12);
    return Buffer.concat([h, Buffer.from(r.data)]);
  });
  return Buffer.concat([header, ...recs]);
}
