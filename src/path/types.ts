import { z } from 'zod';
import { InterfaceKindSchema } from '../model/topology.js';

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
  /** How the packet gets here from the previous hop. */
  via: z.enum(['start', 'veth', 'bridge', 'route', 'patch', 'gap']),
  address: z.string().optional(),
  mtu: z.number().int(),
  addresses: z.array(z.string()),
  note: z.string().optional(),
});
export type Hop = z.infer<typeof HopSchema>;

export const PathSchema = z.object({
  target: z.object({
    query: z.string(),
    type: z.enum(['ip', 'mac', 'ifname', 'netns']),
    netns: z.string(),
    ifname: z.string(),
    address: z.string().optional(),
  }),
  hops: z.array(HopSchema),
  /** True when the target is not connected to the uplink the way it should be (see the gap hop). */
  complete: z.boolean(),
  notes: z.array(z.string()),
});
export type Path = z.infer<typeof PathSchema>;
