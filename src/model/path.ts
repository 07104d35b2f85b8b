import { z } from 'zod';
import { InterfaceKindSchema } from './topology.js';

/**
 * - uplink:      where outside traffic enters the host
 * - bridge:      a bridge that frames cross port to port (or that holds the target address)
 * - bridge-port: a bridge port on the way that is neither uplink nor backend
 * - backend:     the host-side device of the guest's NIC (tap, veth)
 * - guest-nic:   the target's own NIC inside the guest/container
 * - router:      an interface the host routes the traffic out of (e.g. docker0 as gateway)
 * - nat:         where the traffic's address is translated (a published port)
 */
export const HopRoleSchema = z.enum(['uplink', 'bridge-port', 'bridge', 'backend', 'guest-nic', 'router', 'nat']);
export type HopRole = z.infer<typeof HopRoleSchema>;

/** An Open vSwitch port as the path crosses it. */
export const OvsHopPortSchema = z.object({
  name: z.string(),
  ofport: z.number().int(),
  /** internal, patch, system, vxlan... */
  type: z.string(),
  /** "access 1", "trunk 1,2", "trunk (all)", "untagged": the VLAN the packet has on this port. */
  vlan: z.string(),
  /** A patch port's peer and the bridge it is on. */
  peer: z.string().optional(),
  peerBridge: z.string().optional(),
});
export type OvsHopPort = z.infer<typeof OvsHopPortSchema>;

export const OvsHopSchema = z.object({
  bridge: z.string(),
  /** For a device that is an OVS port: that port. */
  port: OvsHopPortSchema.optional(),
  /** For a bridge hop: the port the packet to the target enters by, and the one it leaves by. */
  in: OvsHopPortSchema.optional(),
  out: OvsHopPortSchema.optional(),
  /** Interface external_ids as Nova/Neutron set them. */
  neutron: z
    .object({
      portId: z.string(),
      vmUuid: z.string().optional(),
      attachedMac: z.string().optional(),
      status: z.string().optional(),
    })
    .optional(),
});
export type OvsHop = z.infer<typeof OvsHopSchema>;

export const HopSchema = z.object({
  netns: z.string(),
  ifname: z.string(),
  kind: InterfaceKindSchema,
  role: HopRoleSchema,
  /**
   * Whether a capture on this device sees the target's transit traffic.
   * Frames bridged between two ports are not seen on the bridge device itself;
   * routed or locally delivered traffic is.
   */
  seesTransit: z.boolean(),
  isTarget: z.boolean(),
  /** How the packet gets here from the previous hop ('macvlan': between a macvlan/macvtap/ipvlan and its lower device). */
  via: z.enum(['start', 'veth', 'bridge', 'route', 'patch', 'gap', 'macvlan']),
  address: z.string().optional(),
  mtu: z.number().int(),
  addresses: z.array(z.string()),
  note: z.string().optional(),
  /** Open vSwitch: the bridge, ports, VLAN tags and patch peers at this hop. */
  ovs: OvsHopSchema.optional(),
});
export type Hop = z.infer<typeof HopSchema>;

export const CandidateSchema = z.object({
  netns: z.string(),
  ifname: z.string(),
  /** Why it is a candidate: "port of vmbr0; no other evidence", "QEMU pid 1234 -netdev tap,ifname=tap0 …". */
  why: z.string(),
});
export type Candidate = z.infer<typeof CandidateSchema>;

export const PathSchema = z.object({
  target: z.object({
    query: z.string(),
    type: z.enum(['ip', 'mac', 'ifname', 'netns', 'neutron-port', 'vm-uuid', 'domain', 'container']),
    netns: z.string(),
    ifname: z.string(),
    address: z.string().optional(),
    /** A Docker container target: its ID and name. */
    container: z.object({ id: z.string(), name: z.string() }).optional(),
    /** CONTAINER:PORT: the host address and port it is published on, and the DNAT rule that maps it (if any). */
    published: z
      .object({
        address: z.string(),
        port: z.number().int(),
        containerPort: z.number().int(),
        proto: z.enum(['tcp', 'udp', 'sctp']),
        dnat: z.string().optional(),
      })
      .optional(),
  }),
  hops: z.array(HopSchema),
  /**
   * A target address resolved from the prefix that holds it (a silent or
   * opaque guest): the backends it may be behind, each with why. One entry
   * when the evidence narrowed it (the path then ends at that backend);
   * several when it did not (the path ends at the bridge or routed device).
   */
  candidates: z.array(CandidateSchema).optional(),
  /** True when the target is not connected to the uplink the way it should be (see the gap hop). */
  complete: z.boolean(),
  notes: z.array(z.string()),
});
export type Path = z.infer<typeof PathSchema>;
