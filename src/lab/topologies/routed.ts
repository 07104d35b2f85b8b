import type { LabTopology } from '../types.js';
import { addAddress, createNamespaces, startService, up, vethPair } from './common.js';

/**
 * A Docker-style host: the uplink holds the host address, the bridge docker0
 * holds the container subnet's gateway, a vethXXXX pair leads into the
 * container, the host forwards and masquerades, and port 9200 is published
 * (DNAT from the host address to the container), with Docker's chains.
 *
 *   client 198.51.100.100 ── eth0 [hv 198.51.100.1, docker0 203.0.113.1] veth9a1b2c3 ── eth0 ct1 203.0.113.2
 *
 * Dual stack as Docker's `--ipv6 --fixed-cidr-v6 --ip6tables` makes it: each
 * IPv4 subnet has a 2001:db8::/32 twin (198.51.100.0/24 → 2001:db8:5100::/64,
 * 203.0.113.0/24 → 2001:db8:7113::/64), routed, with the same filter chains
 * in ip6tables; published ports stay IPv4 (no IPv6 DNAT in the lab).
 */
export const routed: LabTopology = {
  name: 'routed',
  description:
    'Docker-style host: docker0 203.0.113.1/24, container ct1, MASQUERADE, port 9200 published on 198.51.100.1',
  roles: ['client', 'hv', 'ct1'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '198.51.100.1' },
  targets: [
    {
      name: 'ct1',
      role: 'ct1',
      address: '203.0.113.2',
      address6: '2001:db8:7113::2',
      mac: '02:42:cb:00:71:02',
      backend: 'veth9a1b2c3',
      port: 9200,
      published: { address: '198.51.100.1', port: 9200 },
    },
  ],
  async build(lab) {
    await createNamespaces(lab, this.roles);
    const ct = this.targets[0]!;
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await lab.run('hv', ['ip', 'link', 'add', 'docker0', 'address', '02:42:cb:00:71:01', 'type', 'bridge']);
    await vethPair(
      lab,
      { role: 'hv', ifname: ct.backend, mac: '7a:1c:00:00:00:02' },
      { role: ct.role, ifname: 'eth0', mac: ct.mac },
    );
    await lab.run('hv', ['ip', 'link', 'set', ct.backend, 'master', 'docker0']);
    await Promise.all([
      up(lab, 'hv', 'eth0'),
      up(lab, 'hv', 'docker0'),
      up(lab, 'hv', ct.backend),
      up(lab, 'client', 'eth0'),
      up(lab, ct.role, 'eth0'),
    ]);
    await addAddress(lab, 'hv', 'eth0', '198.51.100.1/24');
    await addAddress(lab, 'hv', 'docker0', '203.0.113.1/24');
    await addAddress(lab, 'client', 'eth0', '198.51.100.100/24');
    await addAddress(lab, ct.role, 'eth0', `${ct.address}/24`);
    await addAddress(lab, 'hv', 'eth0', '2001:db8:5100::1/64');
    await addAddress(lab, 'hv', 'docker0', '2001:db8:7113::1/64');
    await addAddress(lab, 'client', 'eth0', '2001:db8:5100::100/64');
    await addAddress(lab, ct.role, 'eth0', `${ct.address6}/64`);
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '198.51.100.100', 'dev', 'eth0']);
    await lab.run('hv', ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:5100::100', 'dev', 'eth0']);
    // The client is the upstream router: it knows the container subnet is behind the host.
    await lab.run('client', ['ip', 'route', 'add', '203.0.113.0/24', 'via', '198.51.100.1', 'dev', 'eth0']);
    await lab.run('client', [
      'ip',
      '-6',
      'route',
      'add',
      '2001:db8:7113::/64',
      'via',
      '2001:db8:5100::1',
      'dev',
      'eth0',
    ]);
    await lab.run(ct.role, ['ip', 'route', 'add', 'default', 'via', '203.0.113.1', 'dev', 'eth0']);
    await lab.run(ct.role, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:7113::1', 'dev', 'eth0']);
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // Docker's rules for one container publishing 9200 (as `iptables-save` shows them on a Docker host;
    // FORWARD policy left ACCEPT so that the container subnet is routable from the client).
    const rules = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':INPUT ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      ':DOCKER - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER',
      '-A POSTROUTING -s 203.0.113.0/24 ! -o docker0 -j MASQUERADE',
      '-A DOCKER -i docker0 -j RETURN',
      `-A DOCKER ! -i docker0 -p tcp -m tcp --dport ${ct.published!.port} -j DNAT --to-destination ${ct.address}:${ct.port}`,
      'COMMIT',
      ...dockerFilter(`${ct.address}/32`, ct.port),
      '',
    ].join('\n');
    await lab.run('hv', ['iptables-restore'], { input: rules });
    // Docker's --ip6tables writes the same filter chains for IPv6.
    const rules6 = [...dockerFilter(`${ct.address6}/128`, ct.port), ''].join('\n');
    await lab.run('hv', ['ip6tables-restore'], { input: rules6 });
    await startService(lab, ct.role, ct.address, ct.port, ct.address6);
  },
};

/** Docker's filter table for one container port (the same chains for iptables and ip6tables). */
function dockerFilter(destination: string, port: number): string[] {
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    ':DOCKER-USER - [0:0]',
    '-A FORWARD -j DOCKER-USER',
    '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A FORWARD -o docker0 -j DOCKER',
    '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
    '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
    `-A DOCKER -d ${destination} ! -i docker0 -o docker0 -p tcp -m tcp --dport ${port} -j ACCEPT`,
    '-A DOCKER-USER -j RETURN',
    'COMMIT',
  ];
}
