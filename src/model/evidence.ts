/**
 * Evidence that collectors and captures gather beside the topology and that checks read: kernel
 * drop events, the kernel log's promiscuous-mode lines, OVN's northbound state.
 */

/** One skb:kfree_skb event with a reason other than NOT_SPECIFIED/CONSUMED. */
export interface DropEvent {
  reason: string;
  /** The device the packet was on, when a device-context event told it. */
  device?: string;
  location: string;
  protocol: number;
  count: number;
}

export interface PromiscLog {
  /** Where the lines came from: journalctl -k, /var/log/kern.log, /var/log/messages or dmesg. */
  source: string;
  /** Per device name: how often it entered and left promiscuous mode. */
  devices: Map<string, { entered: number; left: number }>;
}

export interface OvnPort {
  name: string;
  logicalSwitch: string;
  addresses: string[];
  portSecurity: string[];
}
export interface OvnAcl {
  logicalSwitch: string;
  direction: string;
  priority: number;
  match: string;
  action: string;
  name?: string;
}
export interface OvnNbState {
  ports: OvnPort[];
  acls: OvnAcl[];
  /** The northbound database it was read from ("unix:/run/ovn/ovnnb_db.sock"), for the fix commands. */
  database?: string;
}
