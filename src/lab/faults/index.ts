import type { LabFault } from '../types.js';
import { arpReplyDropped } from './arp-reply-dropped.js';
import { bridgePortMissing } from './bridge-port-missing.js';
import { chainFirewallDrop } from './chain-firewall-drop.js';
import { chainStpBlocking } from './chain-stp-blocking.js';
import { deviceDrops } from './device-drops.js';
import { dockerDnatRemoved } from './docker-dnat-removed.js';
import { dockerNotListening } from './docker-not-listening.js';
import { dockerPromisc } from './docker-promisc.js';
import { dockerUserDrop } from './docker-user-drop.js';
import { firewallDrop } from './firewall-drop.js';
import { guestArpIgnore } from './guest-arp-ignore.js';
import { guestArpUnresolved } from './guest-arp-unresolved.js';
import { guestDropsArp } from './guest-drops-arp.js';
import { guestDropsNs } from './guest-drops-ns.js';
import { guestFirewall } from './guest-firewall.js';
import { guestNoReply } from './guest-no-reply.js';
import { ipConflict } from './ip-conflict.js';
import { ipForwardDisabled } from './ip-forward-disabled.js';
import { linkDown } from './link-down.js';
import { macConflict } from './mac-conflict.js';
import { macvlanHostIsolation } from './macvlan-host-isolation.js';
import { macvlanPrivate } from './macvlan-private.js';
import { mtuMismatch } from './mtu-mismatch.js';
import { natMissing } from './nat-missing.js';
import { ndpReplyDropped } from './ndp-reply-dropped.js';
import { noRoute } from './no-route.js';
import { neutronFlowDrop } from './neutron-flow-drop.js';
import { neutronVlanMismatch } from './neutron-vlan-mismatch.js';
import { neutronQvoMissing } from './neutron-qvo-missing.js';
import { neutronPatchPeerMissing } from './neutron-patch-peer-missing.js';
import { neutronFlowWrongPort } from './neutron-flow-wrong-port.js';
import { neutronMacWrongPort } from './neutron-mac-wrong-port.js';
import { ovnAclDrop } from './ovn-acl-drop.js';
import { ovnPortSecurity } from './ovn-port-security.js';
import { ovsFlowDrop } from './ovs-flow-drop.js';
import { ovsPortDown } from './ovs-port-down.js';
import { promiscDependent } from './promisc-dependent.js';
import { rpFilterDrop } from './rp-filter-drop.js';
import { serviceNotListening } from './service-not-listening.js';
import { stpBlocking } from './stp-blocking.js';
import { tcFilter } from './tc-filter.js';
import { upstreamNoTraffic } from './upstream-no-traffic.js';
import { vmGuestFirewall } from './vm-guest-firewall.js';
import { vmGuestIgnoresArp } from './vm-guest-ignores-arp.js';
import { vmGuestMacMismatch } from './vm-guest-mac-mismatch.js';
import { vmGuestNicDown } from './vm-guest-nic-down.js';
import { vmTapDetached } from './vm-tap-detached.js';

export const FAULTS: LabFault[] = [
  firewallDrop,
  guestFirewall,
  linkDown,
  bridgePortMissing,
  stpBlocking,
  macConflict,
  ipConflict,
  mtuMismatch,
  tcFilter,
  serviceNotListening,
  guestArpUnresolved,
  guestDropsArp,
  guestArpIgnore,
  arpReplyDropped,
  guestNoReply,
  upstreamNoTraffic,
  deviceDrops,
  promiscDependent,
  ipForwardDisabled,
  rpFilterDrop,
  natMissing,
  noRoute,
  ovsFlowDrop,
  ovsPortDown,
  neutronFlowDrop,
  neutronVlanMismatch,
  neutronQvoMissing,
  neutronPatchPeerMissing,
  neutronFlowWrongPort,
  neutronMacWrongPort,
  vmGuestNicDown,
  vmGuestFirewall,
  vmGuestIgnoresArp,
  vmTapDetached,
  vmGuestMacMismatch,
  ovnAclDrop,
  ovnPortSecurity,
  dockerUserDrop,
  dockerDnatRemoved,
  dockerNotListening,
  dockerPromisc,
  // issue 16 §3b: macvlan
  macvlanHostIsolation,
  macvlanPrivate,
  // issue 16 §3: a chain of bridges
  chainFirewallDrop,
  chainStpBlocking,
  // issue 16 §4: NDP-only breaks (IPv6 only: diagnosed over the target's address6)
  guestDropsNs,
  ndpReplyDropped,
];
