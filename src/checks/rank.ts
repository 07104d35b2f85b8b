import type { Topology } from '../model/topology.js';
import type { Path } from '../model/path.js';
import type { Cause, CauseId } from '../model/report.js';

/**
 * Ranking prefers the state that explains the observations over the
 * observations it causes (docs/causes.md, "How ranking works"). Each check
 * gives its own confidence from its own evidence; this table then says which
 * causes explain which others, and is applied once, after every check ran:
 * an explained cause is moved just below the cause that explains it and says so.
 */
export interface Explains {
  /** The state that explains. */
  root: CauseId[];
  /** The observation it causes. */
  symptom: CauseId;
  /** Why, in the operator's words (becomes an evidence line of the symptom). */
  why: string;
  /** Whether this root explains this symptom here (same or adjacent device, ...). */
  applies(root: Cause, symptom: Cause, ctx: RankContext): boolean;
}

/** What the relations may look at besides the two causes. All optional: unit tests give what they need. */
export interface RankContext {
  path?: Path;
  topology?: Topology;
  /** The target's own MAC. */
  targetMac?: string;
  /** Source MACs of the TCP resets from the target's address. */
  rstMacs?: string[];
}

export const EXPLAINS: Explains[] = [
  {
    // A port that is down, unbridged or not forwarding makes the bridge and the
    // devices beside it count drops (frames with nowhere to go, a full queue in
    // front of a dead peer): the counters are the symptom, the port the cause.
    root: ['link-down', 'bridge-port-missing', 'stp-blocking', 'guest-nic-down'],
    symptom: 'device-drops',
    why: 'drops counted beside a device that is down, unbridged or not forwarding',
    applies: (root, symptom, ctx) => beside(root.device, symptom.device, ctx),
  },
  {
    // The bridge puts a port without carrier in STP state disabled (br_stp_if.c:
    // br_stp_disable_port on NETDEV_DOWN/CHANGE): the state follows the link.
    root: ['link-down', 'guest-nic-down'],
    symptom: 'stp-blocking',
    why: 'a bridge port whose link is down is put in STP state disabled by the bridge itself',
    applies: (root, symptom, ctx) => beside(root.device, symptom.device, ctx),
  },
  {
    // Another host holding the target's address answers in its place: its RST
    // says nothing about the target's service.
    root: ['ip-conflict'],
    symptom: 'service-not-listening',
    why: "the reset came from a MAC that is not the target's while another host claims its address",
    applies: (_root, _symptom, ctx) =>
      !ctx.targetMac ||
      !ctx.rstMacs ||
      ctx.rstMacs.length === 0 ||
      ctx.rstMacs.some((m) => m.toLowerCase() !== ctx.targetMac!.toLowerCase()),
  },
];

type Device = Cause['device'];

/**
 * Whether two devices are the same, or beside each other: adjacent hops of the
 * path, one the other's bridge (master) or veth peer. Without a device or a
 * path to judge by, a device-less cause explains nothing.
 */
export function beside(a: Device, b: Device, ctx: RankContext): boolean {
  if (!a || !b) return false;
  if (a.netns === b.netns && a.ifname === b.ifname) return true;
  const hops = ctx.path?.hops ?? [];
  const ia = hops.findIndex((h) => h.netns === a.netns && h.ifname === a.ifname);
  const ib = hops.findIndex((h) => h.netns === b.netns && h.ifname === b.ifname);
  if (ia >= 0 && ib >= 0 && Math.abs(ia - ib) <= 1) return true;
  const iface = (d: NonNullable<Device>) =>
    ctx.topology?.namespaces.find((n) => n.id === d.netns)?.interfaces.find((i) => i.ifname === d.ifname);
  const related = (x: NonNullable<Device>, y: NonNullable<Device>) => {
    const i = iface(x);
    if (!i) return false;
    if (x.netns === y.netns && (i.master === y.ifname || i.ovsBridge === y.ifname)) return true;
    return i.peer?.ifname === y.ifname && (i.peer.netns === null || i.peer.netns === y.netns);
  };
  return related(a, b) || related(b, a);
}

/**
 * Applies EXPLAINS to the checks' causes and sorts them: a symptom explained
 * by a root present among them ranks just below that root, with an evidence
 * line naming it. Highest confidence first otherwise.
 */
export function rankCauses(causes: Cause[], ctx: RankContext = {}, relations: Explains[] = EXPLAINS): Cause[] {
  for (const rel of relations) {
    for (const symptom of causes.filter((c) => c.id === rel.symptom)) {
      const roots = causes.filter((c) => c !== symptom && rel.root.includes(c.id) && rel.applies(c, symptom, ctx));
      if (roots.length === 0) continue;
      const root = roots.reduce((a, b) => (b.confidence > a.confidence ? b : a));
      if (symptom.confidence >= root.confidence)
        symptom.confidence = Math.max(0, Math.round((root.confidence - 0.01) * 1000) / 1000);
      const where = root.device ? ` at ${root.device.netns}/${root.device.ifname}` : '';
      symptom.evidence.push(`ranked below ${root.id}${where}, which explains it: ${rel.why}`);
    }
  }
  return causes.sort((a, b) => b.confidence - a.confidence);
}
