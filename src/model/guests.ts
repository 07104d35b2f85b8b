import { z } from 'zod';

/**
 * Guests as the platforms that run them describe them, read from their own
 * files and processes (no daemon asked): a QEMU command line, libvirt's
 * status XML and DHCP leases, Proxmox VE and LXC configs, Incus/LXD
 * instances' backup.yaml. What a silent or
 * opaque guest's address is resolved with when no interface and no
 * neighbour entry names it. Source `arp` is hopdump's own ARP/NS probe's
 * answer (diagnose, or path --resolve-arp). Every field but `source` and `why` is optional:
 * each platform says only part of it (a lease has the MAC and the address,
 * a QEMU command line the MAC and the tap).
 */
export const GuestSourceSchema = z.enum(['qemu', 'libvirt', 'libvirt-lease', 'proxmox', 'lxc', 'incus', 'arp']);
export type GuestSource = z.infer<typeof GuestSourceSchema>;

export const GuestNicSchema = z.object({
  source: GuestSourceSchema,
  /** Domain, VM id or container name, as the platform names it. */
  name: z.string().optional(),
  /** The guest NIC's MAC, lower case. */
  mac: z.string().optional(),
  /** The bridge the platform plugs the NIC into. */
  bridge: z.string().optional(),
  /** The host-side device (tap, vnet, veth), when known. */
  ifname: z.string().optional(),
  /**
   * The host-side device's ifindex in the guest's namespace, when that is all the platform says
   * (a macvtap passed to QEMU as an open /dev/tapIFINDEX); the device is named from it once the
   * namespace is known.
   */
  ifindex: z.number().int().optional(),
  /** The guest's addresses the platform knows (without prefix length). */
  addresses: z.array(z.string()),
  /** The QEMU process. */
  pid: z.number().int().optional(),
  /** Inode of the network namespace the QEMU process runs in: its tap is there. */
  netnsInode: z.number().int().optional(),
  /** That namespace as the model names it (joined by inode at discovery). */
  netns: z.string().optional(),
  /** Where this came from, in the operator's words: "QEMU pid 1234 -netdev tap,ifname=tap0 mac=52:54:…". */
  why: z.string(),
});
export type GuestNic = z.infer<typeof GuestNicSchema>;
