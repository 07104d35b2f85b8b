import { ofctl, startOvs, vsctl } from '../ovs.js';
import type { LabBuilder, LabTarget, LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * An OpenStack compute node with Neutron's OVS agent and the iptables hybrid
 * firewall ("hybrid plug"), as seed 003 walks it by hand:
 *
 *   client eth0 ── eth0 [br-ex 192.0.2.1] phy-br-ex ═ int-br-ex [br-int, local VLAN 1]
 *     br-int qvo<id> ── qvb<id> [qbr<id>: iptables neutron-openvswi-*] tap<id> ── eth0 vm1 192.0.2.11
 *
 * Device names are made as Neutron makes them: a prefix and the first 11
 * characters of the Neutron port UUID. The VM is a namespace and its tap a
 * veth (no QEMU in this topology); everything on the host side is as Nova and
 * the agent leave it: Interface external_ids (iface-id, iface-status,
 * attached-mac, vm-uuid), the Port's other_config (net_uuid, network_type,
 * physical_network, tag), the local VLAN translated to the flat provider
 * network by flows on br-int and br-ex, fail_mode=secure on both bridges.
 */
export interface NeutronPort {
  /** Neutron port UUID. */
  portId: string;
  /** Nova instance UUID. */
  vmUuid: string;
  /** Security groups on the port (false = port_security_enabled=False). */
  portSecurity: boolean;
}

export const NEUTRON_NETWORK = {
  netUuid: '9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a',
  networkType: 'flat',
  physicalNetwork: 'physnet1',
  localVlan: 1,
};

export const NEUTRON_PORTS: Record<string, NeutronPort> = {
  vm1: {
    portId: '3f2a9c1e-7b4d-4e2a-9c1f-0a1b2c3d4e5f',
    vmUuid: '6b1e2c3d-4f5a-4b6c-9d7e-8f9a0b1c2d3e',
    portSecurity: true,
  },
  vm2: {
    portId: '8c5d2e4f-1a3b-4c6d-8e9f-a0b1c2d3e4f5',
    vmUuid: '7c2f3d4e-5a6b-4c7d-8e8f-9a0b1c2d3e4f',
    portSecurity: false,
  },
};

/** tap/qbr/qvb/qvo + the first 11 characters of the port UUID, as Neutron names them. */
export function neutronDevice(prefix: 'tap' | 'qbr' | 'qvb' | 'qvo', portId: string): string {
  return `${prefix}${portId.slice(0, 11)}`;
}

const devs = (target: string) => {
  const id = NEUTRON_PORTS[target]!.portId;
  return {
    tap: neutronDevice('tap', id),
    qbr: neutronDevice('qbr', id),
    qvb: neutronDevice('qvb', id),
    qvo: neutronDevice('qvo', id),
  };
};

export const neutron: LabTopology = {
  name: 'neutron',
  description:
    'OpenStack compute node: hybrid plug tap→qbr→qvb/qvo→br-int (local VLAN 1)→patch→br-ex, names from port UUIDs',
  roles: ['client', 'hv', 'vm1', 'vm2'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '192.0.2.1' },
  targets: [
    { name: 'vm1', role: 'vm1', address: '192.0.2.11', mac: 'fa:16:3e:00:00:11', backend: devs('vm1').tap, port: 80 },
    { name: 'vm2', role: 'vm2', address: '192.0.2.12', mac: 'fa:16:3e:00:00:12', backend: devs('vm2').tap, port: 80 },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    // The hybrid firewall: bridged IPv4 on qbr traverses iptables FORWARD.
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    await startOvs(lab, 'hv');
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await vsctl(lab, 'hv', [
      '--',
      'add-br',
      'br-int',
      '--',
      'set',
      'bridge',
      'br-int',
      'datapath_type=netdev',
      'fail_mode=secure',
      '--',
      'add-br',
      'br-ex',
      '--',
      'set',
      'bridge',
      'br-ex',
      'datapath_type=netdev',
      'fail_mode=secure',
      'other-config:hwaddr=02:00:00:00:00:01',
      '--',
      'add-port',
      'br-ex',
      'eth0',
      // What neutron-openvswitch-agent makes for bridge_mappings=physnet1:br-ex.
      '--',
      'add-port',
      'br-int',
      'int-br-ex',
      '--',
      'set',
      'interface',
      'int-br-ex',
      'type=patch',
      'options:peer=phy-br-ex',
      '--',
      'add-port',
      'br-ex',
      'phy-br-ex',
      '--',
      'set',
      'interface',
      'phy-br-ex',
      'type=patch',
      'options:peer=int-br-ex',
    ]);
    for (const [i, t] of this.targets.entries()) await plug(lab, t, i + 1);
    await agentFlows(lab);
    const offload = [
      ['client', 'eth0'],
      ['hv', 'eth0'],
      ...this.targets.flatMap((t) => [
        ['hv', devs(t.name).qvo],
        ['hv', devs(t.name).qvb],
        ['hv', t.backend],
        [t.role, 'eth0'],
      ]),
    ];
    // TCP through veths into the userspace datapath needs transmit checksum offload off on the senders.
    await Promise.all(offload.map(([role, ifname]) => lab.run(role!, ['ethtool', '-K', ifname!, 'tx', 'off'])));
    await Promise.all([up(lab, 'hv', 'eth0'), up(lab, 'hv', 'br-ex'), up(lab, 'hv', 'br-int')]);
    await addAddress(lab, 'hv', 'br-ex', '192.0.2.1/24');
    await up(lab, 'client', 'eth0');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'br-ex']);
    for (const t of this.targets) {
      await up(lab, t.role, 'eth0');
      await addAddress(lab, t.role, 'eth0', `${t.address}/24`);
      await lab.run(t.role, ['ip', 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0']);
    }
    await securityGroups(lab, this.targets);
    await Promise.all(this.targets.map((t) => startService(lab, t.role, t.address, t.port)));
  },
};

/** Nova's hybrid plug of one port, then the agent's binding of qvo to the network's local VLAN. */
async function plug(lab: LabBuilder, t: LabTarget, n: number): Promise<void> {
  const port = NEUTRON_PORTS[t.name]!;
  const d = devs(t.name);
  const net = NEUTRON_NETWORK;
  await lab.run('hv', ['ip', 'link', 'add', d.qbr, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await vethPair(
    lab,
    { role: 'hv', ifname: d.tap, mac: t.mac.replace(/^fa/, 'fe') },
    { role: t.role, ifname: 'eth0', mac: t.mac },
  );
  await lab.run('hv', [
    'ip',
    'link',
    'add',
    d.qvb,
    'address',
    `02:00:00:00:1b:1${n}`,
    'type',
    'veth',
    'peer',
    'name',
    d.qvo,
    'address',
    `02:00:00:00:1c:1${n}`,
  ]);
  await lab.run('hv', ['ip', 'link', 'set', d.tap, 'master', d.qbr]);
  await lab.run('hv', ['ip', 'link', 'set', d.qvb, 'master', d.qbr]);
  await Promise.all([d.qbr, d.tap, d.qvb, d.qvo].map((dev) => up(lab, 'hv', dev)));
  await vsctl(lab, 'hv', [
    '--',
    'add-port',
    'br-int',
    d.qvo,
    `tag=${net.localVlan}`,
    '--',
    'set',
    'port',
    d.qvo,
    `other_config:net_uuid=${net.netUuid}`,
    `other_config:network_type=${net.networkType}`,
    `other_config:physical_network=${net.physicalNetwork}`,
    `other_config:tag=${net.localVlan}`,
    '--',
    'set',
    'interface',
    d.qvo,
    `external_ids:iface-id=${port.portId}`,
    'external_ids:iface-status=active',
    `external_ids:attached-mac=${t.mac}`,
    `external_ids:vm-uuid=${port.vmUuid}`,
  ]);
}

/** The flows neutron-openvswitch-agent installs for a flat network on physnet1 with local VLAN 1. */
async function agentFlows(lab: LabBuilder): Promise<void> {
  const vlan = NEUTRON_NETWORK.localVlan;
  const flows: Array<[string, string]> = [
    ['br-int', 'table=0,priority=65535,vlan_tci=0x0fff/0x1fff,actions=drop'],
    [
      'br-int',
      `table=0,priority=3,in_port=int-br-ex,vlan_tci=0x0000/0x1fff,actions=mod_vlan_vid:${vlan},resubmit(,60)`,
    ],
    ['br-int', 'table=0,priority=2,in_port=int-br-ex,actions=drop'],
    ['br-int', 'table=0,priority=0,actions=resubmit(,60)'],
    ['br-int', 'table=60,priority=3,actions=NORMAL'],
    ['br-ex', `table=0,priority=4,in_port=phy-br-ex,dl_vlan=${vlan},actions=strip_vlan,NORMAL`],
    ['br-ex', 'table=0,priority=2,in_port=phy-br-ex,actions=drop'],
    ['br-ex', 'table=0,priority=0,actions=NORMAL'],
  ];
  for (const [bridge, flow] of flows) await ofctl(lab, 'hv', ['add-flow', bridge, flow]);
}

/**
 * The iptables hybrid firewall as the agent writes it for ports with security
 * groups (ICMP and tcp/80 in, anti-spoofing out). Ports without port security
 * get no chains at all.
 */
async function securityGroups(lab: LabBuilder, targets: LabTarget[]): Promise<void> {
  const lines = [
    '*filter',
    ':neutron-openvswi-FORWARD - [0:0]',
    ':neutron-openvswi-sg-chain - [0:0]',
    ':neutron-openvswi-sg-fallback - [0:0]',
  ];
  const rules: string[] = ['-A FORWARD -j neutron-openvswi-FORWARD'];
  for (const t of targets.filter((x) => NEUTRON_PORTS[x.name]!.portSecurity)) {
    const id10 = NEUTRON_PORTS[t.name]!.portId.slice(0, 10);
    const tap = t.backend;
    lines.push(
      `:neutron-openvswi-i${id10} - [0:0]`,
      `:neutron-openvswi-o${id10} - [0:0]`,
      `:neutron-openvswi-s${id10} - [0:0]`,
    );
    rules.push(
      `-A neutron-openvswi-FORWARD -m physdev --physdev-out ${tap} --physdev-is-bridged -j neutron-openvswi-sg-chain`,
      `-A neutron-openvswi-FORWARD -m physdev --physdev-in ${tap} --physdev-is-bridged -j neutron-openvswi-sg-chain`,
      `-A neutron-openvswi-sg-chain -m physdev --physdev-out ${tap} --physdev-is-bridged -j neutron-openvswi-i${id10}`,
      `-A neutron-openvswi-sg-chain -m physdev --physdev-in ${tap} --physdev-is-bridged -j neutron-openvswi-o${id10}`,
      `-A neutron-openvswi-i${id10} -m state --state RELATED,ESTABLISHED -j RETURN`,
      `-A neutron-openvswi-i${id10} -p icmp -j RETURN`,
      `-A neutron-openvswi-i${id10} -p tcp -m tcp --dport ${t.port} -j RETURN`,
      `-A neutron-openvswi-i${id10} -m state --state INVALID -j DROP`,
      `-A neutron-openvswi-i${id10} -j neutron-openvswi-sg-fallback`,
      `-A neutron-openvswi-o${id10} -j neutron-openvswi-s${id10}`,
      `-A neutron-openvswi-o${id10} -j RETURN`,
      `-A neutron-openvswi-s${id10} -s ${t.address}/32 -m mac --mac-source ${t.mac.toUpperCase()} -j RETURN`,
      `-A neutron-openvswi-s${id10} -j DROP`,
    );
  }
  rules.push('-A neutron-openvswi-sg-chain -j ACCEPT', '-A neutron-openvswi-sg-fallback -j DROP');
  await lab.run('hv', ['iptables-restore', '--noflush'], { input: [...lines, ...rules, 'COMMIT', ''].join('\n') });
}
