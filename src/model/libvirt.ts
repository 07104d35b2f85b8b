import { z } from 'zod';

/**
 * libvirt domains as `virsh dumpxml` describes them, reduced to what a
 * datapath needs: each NIC's kind, its host-side device (target dev: the tap,
 * macvtap or vhost-user socket's port), MAC and where it is plugged in. Field
 * names keep libvirt's words (targetDev is `<target dev=>`, sourceBridge is
 * `<source bridge=>`) so an operator recognises them in the XML.
 */

/** `<interface type=...>` (libvirt's domain XML "Network interfaces"). */
export const DomainInterfaceTypeSchema = z.enum([
  'bridge',
  'network',
  'direct',
  'ethernet',
  'vhostuser',
  'hostdev',
  'user',
  'mcast',
  'udp',
  'server',
  'client',
  'vdpa',
  'null',
  'vds',
  'other',
]);
export type DomainInterfaceType = z.infer<typeof DomainInterfaceTypeSchema>;

export const DomainInterfaceSchema = z.object({
  type: DomainInterfaceTypeSchema,
  /** The type attribute as written when it is not one this model knows (type 'other'). */
  rawType: z.string().optional(),
  /** The host-side device: vnet0, tapXXXXXXXX-XX, macvtap0; present while the domain runs. */
  targetDev: z.string().optional(),
  mac: z.string().optional(),
  /** `<model type=>`: virtio, e1000, rtl8139. */
  model: z.string().optional(),
  /** type bridge, and type network once running (the network's bridge). */
  sourceBridge: z.string().optional(),
  /** type network: the libvirt network's name. */
  sourceNetwork: z.string().optional(),
  /** type direct (macvtap): the lower device, with its macvtap mode. */
  sourceDev: z.string().optional(),
  sourceMode: z.string().optional(),
  /** type vhostuser: the unix socket, and who listens on it (server = QEMU). */
  sourcePath: z.string().optional(),
  /** `<virtualport type='openvswitch'>`: Open vSwitch port, with Neutron's interfaceid. */
  virtualport: z.object({ type: z.string(), interfaceId: z.string().optional() }).optional(),
  /** `<vlan><tag id=>`: the VLAN tags libvirt asks the switch for. */
  vlanTags: z.array(z.number().int()).optional(),
  mtu: z.number().int().optional(),
  /** `<link state=>`: 'down' when the NIC's virtual cable is unplugged (virsh domif-setlink). */
  linkState: z.enum(['up', 'down']).optional(),
  /** `<alias name=>`: net0, ua-... (the QEMU device id). */
  alias: z.string().optional(),
});
export type DomainInterface = z.infer<typeof DomainInterfaceSchema>;

/** What OpenStack Nova writes in `<metadata>` (namespace http://openstack.org/xmlns/libvirt/nova/1.x). */
export const NovaMetadataSchema = z.object({
  /** Nova gives the domain the instance's UUID. */
  instanceUuid: z.string(),
  /** The instance's display name (`<nova:name>`). */
  name: z.string().optional(),
  flavor: z.string().optional(),
  project: z.string().optional(),
  user: z.string().optional(),
  /** `<nova:ports>` (metadata 1.1): Neutron port UUIDs with their fixed addresses. */
  ports: z.array(z.object({ uuid: z.string(), ips: z.array(z.string()) })),
});
export type NovaMetadata = z.infer<typeof NovaMetadataSchema>;

/** `virsh domstate` words. */
export const DomainStateSchema = z.enum([
  'running',
  'idle',
  'paused',
  'in shutdown',
  'shut off',
  'crashed',
  'pmsuspended',
  'no state',
  'unknown',
]);
export type DomainState = z.infer<typeof DomainStateSchema>;

export const DomainSchema = z.object({
  name: z.string(),
  uuid: z.string(),
  /** libvirt's id while running (`<domain id=>`). */
  id: z.number().int().optional(),
  /** `<domain type=>`: kvm, qemu (TCG), lxc. */
  virtType: z.string().optional(),
  state: DomainStateSchema,
  interfaces: z.array(DomainInterfaceSchema),
  /** Whether a qemu-guest-agent channel (org.qemu.guest_agent.0) is defined. */
  guestAgentChannel: z.boolean(),
  nova: NovaMetadataSchema.optional(),
});
export type Domain = z.infer<typeof DomainSchema>;
