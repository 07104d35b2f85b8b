/**
 * A packet as the correlator sees it: decoded once by the pcap engine, tagged
 * with the hop it was captured on. Fields that a packet does not have are
 * undefined. The engine's own record is adapted to this in capture/, so the
 * correlator can also run on saved captures (`hopdump analyze`).
 */
export interface HopPacket {
  /** Index of the hop in the path (not in the list of captured hops). */
  hop: number;
  /** Capture time, nanoseconds since the epoch. */
  tsNs: bigint;
  /** Identity across hops (pcap engine fingerprint), hex. */
  fp: string;
  /** The same, leaving out addresses and ports that NAT rewrites. */
  natFp: string;
  kind: 'ipv4' | 'ipv6' | 'arp' | 'other';
  srcMac?: string;
  dstMac?: string;
  vlan?: number;
  src?: string;
  dst?: string;
  ttl?: number;
  proto?: 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'other';
  srcPort?: number;
  dstPort?: number;
  /** TCP flags as tcpdump prints them: "S", "S.", "R.", "P.", "none" (src/pcap/summary.ts tcpFlagsText) */
  tcpFlags?: string;
  icmpType?: number;
  icmpCode?: number;
  /** For ICMP errors: the quoted packet's addresses and ports. */
  quoted?: { src?: string; dst?: string; proto?: string; srcPort?: number; dstPort?: number };
  /**
   * Neighbour resolution: ARP, and NDP for IPv6 in the same fields (a
   * neighbour solicitation is op 1 with sender = its source address and
   * target = the address asked for; an advertisement is op 2 with sender =
   * the address advertised, target = its destination). `kind` stays 'ipv6'.
   */
  arpOp?: number;
  arpSenderIp?: string;
  arpSenderMac?: string;
  arpTargetIp?: string;
  /** Wire length and captured bytes (for re-writing into pcapng). */
  length: number;
  data: Uint8Array;
  /** One line, tcpdump -nn -e style. */
  summary: string;
  /** Link type of the capture the bytes came from (1 = Ethernet). */
  linkType: number;
}
