import { remark, sh, withRemark } from '../util/shell.js';
import type { Check } from './types.js';
import { hopName, inNetns } from './util.js';

/** Requests reach the guest's NIC and nothing at all comes back. */
export const guestNoReply: Check = {
  name: 'guest-no-reply',
  raises: ['guest-no-reply'],
  run({ correlation, path, targetAddresses }) {
    const t = correlation.target;
    const nic = path.hops[path.hops.length - 1]!;
    if (!nic.isTarget || t.requestsAtTargetNic === 0 || t.ipFromTarget > 0 || t.arpAskedByTarget.size > 0) return [];
    // The path ends at the guest's backend (a VM without a guest agent): what is behind it is the
    // guest's own, seen only from its console; the commands are not the hypervisor's.
    const closed = nic.role === 'backend';
    return [
      {
        id: 'guest-no-reply',
        confidence: 0.5,
        device: { netns: nic.netns, ifname: nic.ifname },
        summary: `${targetAddresses[0]} receives the requests on ${hopName(nic)} and sends nothing back`,
        evidence: [
          `${t.requestsAtTargetNic} packets to ${targetAddresses[0]} reached ${hopName(nic)}; the target sent no IP packet and no ARP request`,
          ...(closed
            ? [
                `hopdump cannot look inside the guest behind ${hopName(nic)} (no guest agent): its NIC, firewall and services are seen only from its console`,
              ]
            : []),
        ],
        fix: closed
          ? [
              remark(
                "from the guest's console (virsh console, qm terminal, the VNC/serial console): ip -s link   # is its NIC up and receiving?",
              ),
              remark('then: ss -ltn; sysctl net.ipv4.icmp_echo_ignore_all; nft list ruleset; iptables -S'),
            ]
          : [
              withRemark(
                inNetns(nic.netns, sh`ip -s link show ${nic.ifname}`),
                'from the guest console: is the NIC receiving?',
              ),
              withRemark(inNetns(nic.netns, 'ss -ltn'), 'is the service alive and accepting?'),
              withRemark(
                inNetns(nic.netns, 'sysctl net.ipv4.icmp_echo_ignore_all'),
                'and the guest firewall: nft list ruleset; iptables -S',
              ),
            ],
      },
    ];
  },
};
