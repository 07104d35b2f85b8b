/**
 * Moves every record of a classic pcap file by -offsetNs (micro- or
 * nanosecond files, either byte order). Anything that is not a pcap is left
 * as it is for the reader to reject.
 */
export function shiftPcap(buf: Buffer, offsetNs: bigint): Buffer {
  if (offsetNs === 0n || buf.length < 24) return buf;
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) return buf;
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const unit = nano ? 1_000_000_000n : 1_000_000n;
  const shift = nano ? offsetNs : offsetNs / 1000n;
  const out = Buffer.from(buf);
  const r32 = (o: number) => (le ? out.readUInt32LE(o) : out.readUInt32BE(o));
  const w32 = (o: number, v: number) => (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  for (let o = 24; o + 16 <= out.length;) {
    const t = BigInt(r32(o)) * unit + BigInt(r32(o + 4)) - shift;
    w32(o, Number(t / unit));
    w32(o + 4, Number(t % unit));
    o += 16 + r32(o + 8);
  }
  return out;
}
