import { isIP } from 'node:net';
import type { HopPacket } from '../model/packet.js';
import type { Host } from '../host/host.js';
import { isMac } from '../model/ip.js';
import type { Topology } from '../model/topology.js';
import type { Path } from '../model/path.js';
import type { OvsTrace, OvsTraceRule } from '../model/report.js';

/**
 * What the captures cannot see inside Open vSwitch (a bridge, a patch pair),
 * OpenFlow explains: `ovs-appctl ofproto/trace` of the probe's own flow on
 * the OVS bridges of the path, in both directions. ofproto/trace simulates
 * the pipeline (it learns nothing, changes nothing) and follows patch ports
 * into the next bridge with the VLAN the first one gave the packet, so each
 * direction is traced from the bridge where it enters OVS by a real port,
 * and its rules say what every bridge after that did.
 *
 * The flow comes from a packet the captures saw just before the bridge (its
 * exact MACs, addresses, ports and VLAN); a reply that never came is made by
 * mirroring the request.
 */
export interface TraceInput {
  host: Host;
  topology: Topology;
  path: Path;
  packets: HopPacket[];
  targetAddresses: string[];
  /** The probes: which protocols (and ports) to trace. Empty: what the captures saw. */
  probes: Array<{ kind: string; port?: number }>;
  /** The target NIC's MAC: the destination of a request whose ARP never got answered. */
  targetMac?: string;
}

interface FlowFields {
  proto: 'icmp' | 'tcp' | 'udp' | 'arp';
  dlSrc: string;
  dlDst: string;
  vlan?: number;
  src: string;
  dst: string;
  ttl?: number;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  arpOp?: number;
}

const PORT_NAME = /^[\w.:@-]{1,64}$/;

/** The ofproto/trace flow text, from validated fields only. */
export function flowText(inPort: string, f: FlowFields): string {
  if (!PORT_NAME.test(inPort)) throw new Error(`bad OVS port name ${inPort}`);
  // ARP is IPv4's; an IP flow is IPv4 or IPv6 by its addresses (both the same family).
  const family = isIP(f.src);
  if (
    !isMac(f.dlSrc) ||
    !isMac(f.dlDst) ||
    (family !== 4 && family !== 6) ||
    isIP(f.dst) !== family ||
    (f.proto === 'arp' && family !== 4)
  ) {
    throw new Error('bad flow fields');
  }
  const v6 = family === 6;
  const n = (v: number | undefined, max: number) =>
    v !== undefined && Number.isInteger(v) && v >= 0 && v <= max ? v : undefined;
  const parts = [`in_port=${inPort}`];
  const vlan = n(f.vlan, 4095);
  if (vlan !== undefined && vlan > 0) parts.push(`dl_vlan=${vlan}`);
  parts.push(`dl_src=${f.dlSrc}`, `dl_dst=${f.dlDst}`);
  if (f.proto === 'arp') {
    parts.unshift('arp');
    parts.push(`arp_op=${n(f.arpOp, 2) ?? 1}`, `arp_spa=${f.src}`, `arp_tpa=${f.dst}`, `arp_sha=${f.dlSrc}`);
    return parts.join(',');
  }
  // ovs-fields(7): icmp6/tcp6/udp6 with ipv6_src/ipv6_dst; nw_ttl is the hop limit; ICMPv6 needs
  // icmpv6_type/icmpv6_code (icmp_type is refused: "prerequisites not met").
  const icmp = v6 ? 'icmpv6' : 'icmp';
  parts.unshift(v6 ? `${f.proto === 'icmp' ? 'icmp' : f.proto}6` : f.proto);
  parts.push(
    v6 ? `ipv6_src=${f.src}` : `nw_src=${f.src}`,
    v6 ? `ipv6_dst=${f.dst}` : `nw_dst=${f.dst}`,
    `nw_ttl=${n(f.ttl, 255) ?? 64}`,
  );
  if (f.proto === 'icmp')
    parts.push(`${icmp}_type=${n(f.icmpType, 255) ?? (v6 ? 128 : 8)}`, `${icmp}_code=${n(f.icmpCode, 255) ?? 0}`);
  else parts.push(`tp_src=${n(f.sport, 65535) ?? 40000}`, `tp_dst=${n(f.dport, 65535) ?? 80}`);
  return parts.join(',');
}

function fieldsOf(p: HopPacket): FlowFields | undefined {
  if (!p.srcMac || !p.dstMac) return undefined;
  if (p.kind === 'arp') {
    if (!p.arpSenderIp || !p.arpTargetIp) return undefined;
    return {
      proto: 'arp',
      dlSrc: p.srcMac,
      dlDst: p.dstMac,
      src: p.arpSenderIp,
      dst: p.arpTargetIp,
      ...(p.arpOp ? { arpOp: p.arpOp } : {}),
      ...(p.vlan ? { vlan: p.vlan } : {}),
    };
  }
  if ((p.kind !== 'ipv4' && p.kind !== 'ipv6') || !p.src || !p.dst) return undefined;
  const proto = p.proto === 'icmp6' ? 'icmp' : p.proto;
  if (proto !== 'icmp' && proto !== 'tcp' && proto !== 'udp') return undefined;
  // Neighbour discovery is resolution, not the probe's flow.
  if (p.proto === 'icmp6' && p.icmpType !== undefined && p.icmpType >= 133 && p.icmpType <= 137) return undefined;
  return {
    proto,
    dlSrc: p.srcMac,
    dlDst: p.dstMac,
    src: p.src,
    dst: p.dst,
    ...(p.vlan ? { vlan: p.vlan } : {}),
    ...(p.ttl !== undefined ? { ttl: p.ttl } : {}),
    ...(p.srcPort !== undefined ? { sport: p.srcPort } : {}),
    ...(p.dstPort !== undefined ? { dport: p.dstPort } : {}),
    ...(p.icmpType !== undefined ? { icmpType: p.icmpType } : {}),
    ...(p.icmpCode !== undefined ? { icmpCode: p.icmpCode } : {}),
  };
}

/** The answer the target would send to a request (from its own MAC when the request was broadcast). */
function mirror(f: FlowFields, targetMac: string | undefined): FlowFields {
  const own = f.dlDst === 'ff:ff:ff:ff:ff:ff' && targetMac && isMac(targetMac) ? targetMac : f.dlDst;
  return {
    ...f,
    dlSrc: own,
    dlDst: f.dlSrc,
    src: f.dst,
    dst: f.src,
    ttl: 64,
    ...(f.sport !== undefined ? { sport: f.dport, dport: f.sport } : {}),
    ...(f.proto === 'icmp' ? { icmpType: f.src.includes(':') ? 129 : 0, icmpCode: 0 } : {}),
    ...(f.proto === 'arp' ? { arpOp: 2 } : {}),
  };
}

/** Parses ofproto/trace's text: per bridge, the rules hit (table, match, priority, actions), and the datapath actions. */
export function parseTrace(text: string): {
  rules: OvsTraceRule[];
  datapathActions: string;
  flooded: boolean;
  excerpt: string[];
} {
  const rules: OvsTraceRule[] = [];
  let bridge = '';
  let datapathActions = '';
  let flooded = false;
  const excerpt: string[] = [];
  for (const line of text.split('\n')) {
    const br = line.match(/^bridge\("(.+)"\)$/);
    if (br) {
      bridge = br[1]!;
      excerpt.push(line);
      continue;
    }
    const dp = line.match(/^Datapath actions: (.*)$/);
    if (dp) {
      datapathActions = dp[1]!.trim();
      excerpt.push(line);
      continue;
    }
    const rule = line.match(/^\s*(\d+)\. (.*?)(?:, cookie \S+)?$/);
    if (rule && bridge) {
      const body = rule[2]!;
      const pm = body.match(/^(?:(.*), )?priority (\d+)$/);
      rules.push({
        bridge,
        table: Number(rule[1]),
        ...(pm
          ? { priority: Number(pm[2]), match: pm[1] ?? '' }
          : { match: body === 'No match.' ? '(no match: table miss)' : body }),
        actions: [],
      });
      excerpt.push(line);
      continue;
    }
    const last = rules[rules.length - 1];
    if (last && bridge && /^\s{4}\S/.test(line) && !/^\s*->/.test(line)) {
      last.actions.push(line.trim());
      excerpt.push(line);
      continue;
    }
    if (/^\s*->/.test(line)) {
      if (/flooding/.test(line)) flooded = true;
      if (last) last.actions.push(line.trim());
      excerpt.push(line);
    }
  }
  return { rules, datapathActions, flooded, excerpt };
}

/** Output ports of the datapath actions ("push_vlan(vid=1,pcp=0),br-int,pop_vlan,qvoX" → br-int, qvoX). */
export function outputsOf(actions: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of actions) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      tokens.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) tokens.push(cur.trim());
  return tokens
    .filter(
      (t) =>
        t !== 'drop' &&
        !t.includes('(') &&
        !/^(pop_vlan|push_vlan|recirc|ct_clear|set|userspace|trunc|hash|sample)$/.test(t),
    )
    .map((t) => t.replace(/^"|"$/g, ''));
}

export async function traceOvsPath(input: TraceInput): Promise<OvsTrace[]> {
  const { path, topology } = input;
  const out: OvsTrace[] = [];
  const targets = new Set(input.targetAddresses);
  const protocols = [
    ...new Set(
      input.probes.map((p) => p.kind).filter((p) => p === 'icmp' || p === 'tcp' || p === 'udp' || p === 'arp'),
    ),
  ];
  const portOf = (proto: string) => input.probes.find((p) => p.kind === proto)?.port;
  for (const [index, hop] of path.hops.entries()) {
    if (hop.kind !== 'openvswitch' || !hop.ovs) continue;
    const ovs = topology.namespaces.find((n) => n.id === hop.netns)?.ovs;
    if (!ovs?.appctl) continue;
    // The request as last seen before this bridge, the reply as first seen after it.
    const before = input.packets
      .filter((p) => p.hop < index && p.dst !== undefined && targets.has(p.dst))
      .sort((a, b) => b.hop - a.hop);
    const beforeArp = input.packets
      .filter((p) => p.hop < index && p.kind === 'arp' && p.arpTargetIp && targets.has(p.arpTargetIp))
      .sort((a, b) => b.hop - a.hop);
    const after = input.packets
      .filter((p) => p.hop > index && p.src !== undefined && targets.has(p.src))
      .sort((a, b) => a.hop - b.hop);
    const wanted = protocols.length
      ? protocols
      : [
          ...new Set(
            before
              .map((p) => (p.proto === 'icmp6' ? 'icmp' : p.proto))
              .filter((x): x is 'icmp' | 'tcp' | 'udp' => x === 'icmp' || x === 'tcp' || x === 'udp'),
          ),
        ];
    // ARP first when the captures saw the sender ask for the target: it is what actually crossed OVS.
    const kinds = [...(beforeArp.length ? ['arp'] : []), ...wanted.filter((k) => k !== 'arp')];
    for (const proto of kinds) {
      const isProto = (p: HopPacket) =>
        p.proto === proto || (proto === 'icmp' && p.proto === 'icmp6' && (p.icmpType === 128 || p.icmpType === 129));
      const reqPacket =
        proto === 'arp' ? beforeArp[0] : before.find((p) => isProto(p) && (proto !== 'tcp' || p.tcpFlags === 'S'));
      let req = reqPacket ? fieldsOf(reqPacket) : undefined;
      const arp = beforeArp[0];
      if (
        !req &&
        proto !== 'arp' &&
        arp?.arpSenderMac &&
        arp.arpSenderIp &&
        arp.arpTargetIp &&
        input.targetMac &&
        isMac(input.targetMac)
      ) {
        // The request never left the sender (its ARP went unanswered): the flow it would be.
        const port = portOf(proto);
        req = {
          proto: proto as FlowFields['proto'],
          dlSrc: arp.arpSenderMac,
          dlDst: input.targetMac,
          src: arp.arpSenderIp,
          dst: arp.arpTargetIp,
          ...(arp.vlan ? { vlan: arp.vlan } : {}),
          ...(proto === 'icmp' ? { icmpType: 8, icmpCode: 0 } : { sport: 40000, dport: port ?? 80 }),
        };
      }
      if (!req) continue;
      const reqSynthesized = !reqPacket;
      const repPacket = proto === 'arp' ? undefined : after.find(isProto);
      const rep = (repPacket ? fieldsOf(repPacket) : undefined) ?? mirror(req, input.targetMac);
      // A trace starts where the direction enters OVS from a real port; it follows patch
      // ports itself (with the VLAN the first bridge gave the packet) through the next bridges.
      const directions: Array<['to-target' | 'from-target', string | undefined, FlowFields, boolean]> = [
        ['to-target', hop.ovs.in?.type === 'patch' ? undefined : hop.ovs.in?.name, req, reqSynthesized],
        ['from-target', hop.ovs.out?.type === 'patch' ? undefined : hop.ovs.out?.name, rep, !repPacket],
      ];
      for (const [direction, inPort, fields, synthesized] of directions) {
        if (!inPort) continue;
        let flow: string;
        try {
          flow = flowText(inPort, fields);
        } catch {
          continue;
        }
        const argv = [
          'ovs-appctl',
          `--target=${ovs.appctl}`,
          '--timeout=5',
          'ofproto/trace',
          '--names',
          hop.ifname,
          flow,
        ];
        const r = await input.host.run(argv, {
          ...(hop.netns === 'host' ? {} : { netns: hop.netns }),
          okCodes: 'any',
          timeoutMs: 8000,
        });
        if (r.code !== 0) {
          out.push({
            bridge: hop.ifname,
            direction,
            proto,
            inPort,
            flow,
            synthesized,
            verdict: 'error',
            datapathActions: '',
            outputs: [],
            rules: [],
            flooded: false,
            excerpt: [(r.stderr || r.stdout).trim().split('\n')[0] ?? 'ofproto/trace failed'],
          });
          continue;
        }
        const parsed = parseTrace(r.stdout);
        const outputs = outputsOf(parsed.datapathActions);
        out.push({
          bridge: hop.ifname,
          direction,
          proto,
          inPort,
          flow,
          synthesized,
          verdict: outputs.length === 0 ? 'drop' : 'output',
          datapathActions: parsed.datapathActions,
          outputs,
          rules: parsed.rules,
          flooded: parsed.flooded,
          excerpt: parsed.excerpt.slice(0, 40),
        });
      }
    }
  }
  return out;
}
