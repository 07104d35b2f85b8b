import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { readGuests } from '../../src/collect/guests/index.js';
import { HopdumpError } from '../../src/errors.js';
import type { GuestNic } from '../../src/model/guests.js';
import type { Interface, Namespace, Topology } from '../../src/model/topology.js';
import { findPath } from '../../src/path/find.js';
import { PathSchema } from '../../src/model/path.js';

/** A Proxmox-like host, as the model would have it: vmbr0 holds 198.51.100.2/24, eno1 is its uplink port. */
function iface(ifindex: number, ifname: string, kind: Interface['kind'], extra: Partial<Interface> = {}): Interface {
  return {
    ifindex,
    ifname,
    kind,
    mtu: 1500,
    adminUp: true,
    operstate: 'UP',
    carrier: true,
    flags: [],
    promisc: false,
    addresses: [],
    ...extra,
  };
}

function host(
  guests: GuestNic[],
  fdb: Array<{ mac: string; ifname: string }> = [],
  neighbours: Namespace['neighbours'] = [],
): Topology {
  const root: Namespace = {
    id: 'host',
    name: null,
    isRoot: true,
    collected: true,
    interfaces: [
      iface(1, 'lo', 'loopback'),
      iface(2, 'eno1', 'physical', { master: 'vmbr0', address: '0c:c4:7a:00:00:01' }),
      iface(3, 'vmbr0', 'bridge', {
        address: '0c:c4:7a:00:00:01',
        addresses: [
          { family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global' },
          { family: 'inet6', local: '2001:db8:100::2', prefixlen: 64, scope: 'global' },
        ],
      }),
      iface(4, 'tap100i0', 'tap', { master: 'vmbr0' }),
      iface(5, 'tap101i0', 'tap', { master: 'vmbr0' }),
      iface(6, 'tap102i0', 'tap', { master: 'vmbr0' }),
    ],
    bridges: [
      {
        ifname: 'vmbr0',
        stp: false,
        stp_state: 0,
        forward_delay: 15,
        vlan_filtering: false,
        ports: ['eno1', 'tap100i0', 'tap101i0', 'tap102i0'].map((ifname) => ({ ifname, state: 'forwarding' as const })),
        fdb: fdb.map((e) => ({ ...e, flags: [], state: 'reachable' })),
      },
    ],
    routes: [
      { family: 'inet', dst: 'default', gateway: '198.51.100.1', dev: 'vmbr0', table: 'main', type: 'unicast' },
      { family: 'inet', dst: '198.51.100.0/24', dev: 'vmbr0', table: 'main', type: 'unicast', scope: 'link' },
    ],
    neighbours,
  };
  return { schemaVersion: 1, host: 'pve1', collectedAt: '', root: '', namespaces: [root], guests, warnings: [] };
}

const proxmox = readGuests(
  fileURLToPath(new URL('../../../test/fixtures/hosts/proxmox.recorded', import.meta.url)),
  [],
);
const lease = (ip: string, mac: string): GuestNic => ({
  source: 'libvirt-lease',
  mac,
  addresses: [ip],
  why: `DHCP lease ${ip} for ${mac} in /var/lib/libvirt/dnsmasq/vmbr0.status`,
});

describe('a silent guest resolved from the prefix that holds its address', () => {
  test('no evidence: the path ends at the bridge, every port but the uplink a candidate, with why', () => {
    const path = PathSchema.parse(findPath(host([]), '198.51.100.77'));
    assert.deepEqual([path.target.netns, path.target.ifname, path.target.address], ['host', 'vmbr0', '198.51.100.77']);
    assert.deepEqual(
      path.hops.map((h) => h.ifname),
      ['eno1', 'vmbr0'],
    );
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['tap100i0', 'tap101i0', 'tap102i0'],
    );
    assert.ok(
      path.candidates!.every((c) => c.why === 'port of vmbr0; no other evidence'),
      JSON.stringify(path.candidates),
    );
    assert.match(
      path.notes[0]!,
      /held by no interface here and no neighbour entry names it; host\/vmbr0 holds its prefix 198\.51\.100\.0\/24.*the path ends at vmbr0/,
    );
  });

  test('a guest config naming the address and the tap narrows to that tap (positive evidence)', () => {
    const path = findPath(host(proxmox), '198.51.100.20');
    assert.equal(path.target.ifname, 'tap100i0');
    assert.deepEqual(
      path.hops.map((h) => `${h.ifname}:${h.role}`),
      ['eno1:uplink', 'vmbr0:bridge', 'tap100i0:backend'],
    );
    assert.equal(path.candidates!.length, 1);
    assert.match(
      path.candidates![0]!.why,
      /Proxmox VM 100 \(web01\) \/etc\/pve\/qemu-server\/100\.conf net0: virtio=BC:24:11:5E:7A:01/,
    );
  });

  test('a port whose guest is known to have another address is eliminated; the others stay candidates', () => {
    const path = findPath(host(proxmox), '198.51.100.77');
    assert.equal(path.target.ifname, 'vmbr0');
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['tap101i0', 'tap102i0'],
    );
  });

  test('a lease names the MAC, the FDB the port it was learned on', () => {
    const path = findPath(
      host([lease('198.51.100.45', '52:54:00:aa:bb:cc')], [{ mac: '52:54:00:aa:bb:cc', ifname: 'tap102i0' }]),
      '198.51.100.45',
    );
    assert.equal(path.target.ifname, 'tap102i0');
    assert.match(
      path.candidates![0]!.why,
      /DHCP lease 198\.51\.100\.45 for 52:54:00:aa:bb:cc.*MAC 52:54:00:aa:bb:cc: vmbr0 learned 52:54:00:aa:bb:cc on tap102i0/,
    );
  });

  test('a QEMU process naming the tap and its MAC joins a lease for that MAC', () => {
    const qemu: GuestNic = {
      source: 'qemu',
      mac: '52:54:00:12:34:01',
      ifname: 'tap101i0',
      addresses: [],
      pid: 4242,
      why: 'QEMU pid 4242 -netdev tap,id=n0,ifname=tap101i0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:01',
    };
    const path = findPath(host([qemu, lease('198.51.100.46', '52:54:00:12:34:01')]), '198.51.100.46');
    assert.equal(path.target.ifname, 'tap101i0');
    assert.match(path.candidates![0]!.why, /QEMU pid 4242/);
  });

  test("every port's guest known to hold other addresses: none is chosen, the path ends at the bridge", () => {
    const qemu = (tap: string, mac: string): GuestNic => ({
      source: 'qemu',
      mac,
      ifname: tap,
      addresses: [],
      why: `QEMU pid 1 ifname=${tap}`,
    });
    const guests = [
      ...proxmox,
      qemu('tap101i0', '52:54:00:00:01:01'),
      qemu('tap102i0', '52:54:00:00:01:02'),
      lease('198.51.100.21', '52:54:00:00:01:01'),
      lease('198.51.100.22', '52:54:00:00:01:02'),
    ];
    const path = findPath(host(guests), '198.51.100.77');
    assert.equal(path.target.ifname, 'vmbr0');
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['tap100i0', 'tap101i0', 'tap102i0'],
    );
    assert.match(path.candidates![1]!.why, /\(DHCP lease 198\.51\.100\.21 for 52:54:00:00:01:01/);
    assert.ok(
      path.notes.some((n) =>
        /the guest behind each of its ports is known to hold other addresses, not 198\.51\.100\.77 \(or a machine beyond the uplink eno1\): the path ends at vmbr0/.test(
          n,
        ),
      ),
      path.notes.join('\n'),
    );
  });

  test("the uplink's own subnet: outside this host, the path is the uplink, no candidates", () => {
    const t = host([]);
    const root = t.namespaces[0]!;
    root.interfaces = root.interfaces.map((i) =>
      i.ifname === 'eno1'
        ? {
            ...i,
            master: undefined,
            addresses: [{ family: 'inet' as const, local: '203.0.113.2', prefixlen: 24, scope: 'global' }],
          }
        : i,
    );
    root.routes = [
      { family: 'inet', dst: 'default', gateway: '203.0.113.1', dev: 'eno1', table: 'main', type: 'unicast' },
    ];
    const path = findPath(t, '203.0.113.50');
    assert.deepEqual(
      path.hops.map((h) => h.ifname),
      ['eno1'],
    );
    assert.deepEqual(path.candidates, []);
    assert.match(path.notes[0]!, /the uplink's own subnet: 203\.0\.113\.50 is outside this host, beyond eno1/);
  });

  test("a chain of bridges (Proxmox's firewall bridge): the candidate is the tap behind fwbr, reached through the veth pair", () => {
    const t = host(proxmox, [{ mac: 'bc:24:11:5e:7a:01', ifname: 'fwpr100p0' }]);
    const root = t.namespaces[0]!;
    root.interfaces = [
      ...root.interfaces.map((i) => (i.ifname === 'tap100i0' ? { ...i, master: 'fwbr100i0' } : i)),
      iface(7, 'fwbr100i0', 'bridge'),
      iface(8, 'fwpr100p0', 'veth', { master: 'vmbr0', peer: { netns: 'host', ifindex: 9, ifname: 'fwln100i0' } }),
      iface(9, 'fwln100i0', 'veth', { master: 'fwbr100i0', peer: { netns: 'host', ifindex: 8, ifname: 'fwpr100p0' } }),
    ];
    // Without the config: the tap is a candidate through the chain, the outer veth is not one.
    const bare = findPath({ ...t, guests: [] }, '198.51.100.77');
    assert.deepEqual(
      bare.candidates!.map((c) => c.ifname),
      ['tap101i0', 'tap102i0', 'tap100i0'],
    );
    assert.match(
      bare.candidates![2]!.why,
      /^port of fwbr100i0, behind vmbr0 through fwpr100p0⇄fwln100i0; no other evidence$/,
    );
    // With it (and vmbr0 having learned the guest's MAC on fwpr100p0): narrowed to the tap.
    const path = findPath(t, '198.51.100.20');
    assert.equal(path.target.ifname, 'tap100i0');
    assert.deepEqual(
      path.hops.map((h) => h.ifname),
      ['eno1', 'vmbr0', 'fwpr100p0', 'fwln100i0', 'fwbr100i0', 'tap100i0'],
    );
    assert.match(
      path.candidates![0]!.why,
      /^port of fwbr100i0, behind vmbr0 through fwpr100p0⇄fwln100i0; .*Proxmox VM 100/,
    );
  });

  test('IPv6: the same from the /64', () => {
    const path = findPath(host(proxmox), '2001:db8:100::31');
    // veth101i0 (the container's) does not exist on this host: no port names it, so no narrowing.
    assert.equal(path.target.ifname, 'vmbr0');
    assert.ok(path.candidates!.length >= 2);
  });

  test('diagnose may follow one candidate: the path then ends at it, the others stay listed', () => {
    const path = findPath(host([]), '198.51.100.77', {
      backend: { netns: 'host', ifname: 'tap101i0', why: 'ARP answered from it' },
    });
    assert.equal(path.target.ifname, 'tap101i0');
    assert.equal(path.candidates!.length, 3);
    assert.ok(path.notes.some((n) => n === 'followed candidate host/tap101i0: ARP answered from it'));
  });

  test('outside every prefix held here: target not found (a usage error, exit 2)', () => {
    assert.throws(
      () => findPath(host(proxmox), '203.0.113.9'),
      (err: unknown) =>
        err instanceof HopdumpError && err.kind === 'usage' && /target 203\.0\.113\.9 not found/.test(err.message),
    );
  });
});

describe('an Incus host: instances from backup.yaml narrow a silent guest', () => {
  const incus = readGuests(fileURLToPath(new URL('../../../test/fixtures/hosts/incus.recorded', import.meta.url)), []);
  /** incusbr0 (Incus's managed bridge) with web's veth, db's tap and a third instance's veth as ports. */
  function incusHost(): Topology {
    const t = host(incus);
    const root = t.namespaces[0]!;
    root.interfaces = [
      iface(1, 'lo', 'loopback'),
      iface(2, 'eno1', 'physical', {
        addresses: [{ family: 'inet', local: '198.51.100.2', prefixlen: 24, scope: 'global' }],
      }),
      iface(3, 'incusbr0', 'bridge', {
        address: '10:66:6a:00:00:01',
        addresses: [{ family: 'inet', local: '203.0.113.1', prefixlen: 24, scope: 'global' }],
      }),
      iface(4, 'veth5f0e2a7b', 'veth', { master: 'incusbr0' }),
      iface(5, 'tap3c9d1e02', 'tap', { master: 'incusbr0' }),
      iface(6, 'veth0d2e4c61', 'veth', { master: 'incusbr0' }),
    ];
    root.bridges = [
      {
        ifname: 'incusbr0',
        stp: false,
        stp_state: 0,
        forward_delay: 15,
        vlan_filtering: false,
        ports: ['veth5f0e2a7b', 'tap3c9d1e02', 'veth0d2e4c61'].map((ifname) => ({
          ifname,
          state: 'forwarding' as const,
        })),
        fdb: [],
      },
    ];
    root.routes = [
      { family: 'inet', dst: 'default', gateway: '198.51.100.1', dev: 'eno1', table: 'main', type: 'unicast' },
      { family: 'inet', dst: '203.0.113.0/24', dev: 'incusbr0', table: 'main', type: 'unicast', scope: 'link' },
    ];
    return t;
  }

  test('the instance whose NIC has the address (ipv4.address) is the target, through its volatile host_name', () => {
    const path = findPath(incusHost(), '203.0.113.10');
    assert.equal(path.target.ifname, 'veth5f0e2a7b');
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['veth5f0e2a7b'],
    );
    assert.match(
      path.candidates![0]!.why,
      /Incus container web \/var\/lib\/incus\/containers\/web\/backup\.yaml device eth0: network incusbr0/,
    );
  });

  test('another address of the prefix: the instance known to hold 203.0.113.10 is no candidate, the others are', () => {
    const path = findPath(incusHost(), '203.0.113.77');
    assert.equal(path.target.ifname, 'incusbr0');
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['tap3c9d1e02', 'veth0d2e4c61'],
    );
  });

  test("without the Incus files nothing tells the ports apart (the test's counter-check)", () => {
    const t = incusHost();
    t.guests = [];
    const path = findPath(t, '203.0.113.10');
    assert.equal(path.target.ifname, 'incusbr0');
    assert.equal(path.candidates!.length, 3);
  });
});

describe('a silent QEMU guest whose backend is not a bridge port (issue 16: libvirt without agent, plain QEMU)', () => {
  const qemu = (ifname: string, mac: string, extra: Partial<GuestNic> = {}): GuestNic => ({
    source: 'qemu',
    mac,
    ifname,
    addresses: [],
    pid: 4242,
    why: `QEMU pid 4242 -netdev tap,id=net0,ifname=${ifname},script=no -device virtio-net-pci,netdev=net0,mac=${mac}`,
    ...extra,
  });
  // The host's own entry, on the bridge that holds the prefix (the tap is off it: no FDB entry to follow).
  const neighbour = (mac: string): Namespace['neighbours'] => [
    { dst: '198.51.100.77', lladdr: mac, dev: 'vmbr0', state: ['REACHABLE'] },
  ];
  /** tap100i0 taken off vmbr0 (as after `ip link set tap100i0 nomaster`). */
  function detached(guests: GuestNic[], neighbours: Namespace['neighbours'] = []): Topology {
    const t = host(guests, [], neighbours);
    const root = t.namespaces[0]!;
    root.interfaces = root.interfaces.map((i) => (i.ifname === 'tap100i0' ? { ...i, master: undefined } : i));
    root.bridges[0]!.ports = root.bridges[0]!.ports.filter((p) => p.ifname !== 'tap100i0');
    return t;
  }

  test("libvirt's <source bridge> names the bridge a tap on no bridge belongs on: the path ends at it, with the gap", () => {
    const t = detached([]);
    t.domains = [
      {
        name: 'web1',
        uuid: '00000000-0000-4000-8000-000000000001',
        state: 'running',
        guestAgentChannel: false,
        interfaces: [{ type: 'bridge', targetDev: 'tap100i0', mac: '52:54:00:aa:00:01', sourceBridge: 'vmbr0' }],
      },
    ];
    const path = findPath(t, '198.51.100.77', {
      backend: { netns: 'host', ifname: 'tap100i0', why: 'ARP answered from it' },
    });
    assert.equal(path.target.ifname, 'tap100i0');
    assert.deepEqual(
      path.hops.map((h) => `${h.ifname}:${h.via}`),
      ['eno1:start', 'vmbr0:bridge', 'tap100i0:gap'],
    );
    assert.match(
      path.candidates!.find((c) => c.ifname === 'tap100i0')!.why,
      /^on no bridge, meant for vmbr0 \(libvirt domain web1 <source bridge='vmbr0'\/>\)/,
    );
  });

  test('a plain QEMU tap on no bridge (script=no names none): a candidate only when a MAC joins the address to it', () => {
    const g = qemu('tap100i0', '52:54:00:aa:00:01');
    const joined = findPath(detached([g], neighbour('52:54:00:aa:00:01')), '198.51.100.77');
    assert.equal(joined.target.ifname, 'tap100i0');
    assert.equal(joined.hops.at(-1)!.via, 'gap');
    assert.match(
      joined.candidates![0]!.why,
      /^on no bridge; neighbour entry in host: 198\.51\.100\.77 lladdr 52:54:00:aa:00:01; MAC 52:54:00:aa:00:01: QEMU pid 4242/,
    );
    // Nothing joins it: the bridge's own ports stay the candidates, the loose tap is not guessed.
    const loose = findPath(detached([g]), '198.51.100.77');
    assert.equal(loose.target.ifname, 'vmbr0');
    assert.deepEqual(
      loose.candidates!.map((c) => c.ifname),
      ['tap101i0', 'tap102i0'],
    );
  });
});

describe("a silent QEMU guest on a macvtap of the uplink (libvirt's direct interface, or plain QEMU given one)", () => {
  /** eno1 holds 203.0.113.2/24 itself, macvtap0 is a macvtap of it (QEMU's, by fd). */
  function direct(guests: GuestNic[], neighbours: Namespace['neighbours'] = []): Topology {
    const t = host(guests, [], neighbours);
    const root = t.namespaces[0]!;
    root.interfaces = [
      iface(1, 'lo', 'loopback'),
      iface(2, 'eno1', 'physical', {
        address: '0c:c4:7a:00:00:01',
        addresses: [{ family: 'inet', local: '203.0.113.2', prefixlen: 24, scope: 'global' }],
      }),
      iface(3, 'macvtap0', 'macvtap', {
        address: '52:54:00:aa:00:09',
        lower: { netns: 'host', ifindex: 2 },
        mode: 'bridge',
      }),
    ];
    root.bridges = [];
    root.routes = [
      { family: 'inet', dst: 'default', gateway: '203.0.113.1', dev: 'eno1', table: 'main', type: 'unicast' },
    ];
    return t;
  }
  const g: GuestNic = {
    source: 'qemu',
    mac: '52:54:00:aa:00:09',
    ifindex: 3,
    ifname: 'macvtap0',
    addresses: [],
    netns: 'host',
    why: 'QEMU pid 6262 -netdev tap,id=net0,fd=3 (fd 3 is /dev/tap3: the macvtap with ifindex 3): macvtap0',
  };

  test('a MAC joins the address to the macvtap (a lease): the target is the macvtap, reached from the uplink', () => {
    // The host itself cannot reach its macvtap guest (no neighbour entry of its own): a lease names the MAC.
    const lease: GuestNic = {
      source: 'libvirt-lease',
      mac: '52:54:00:aa:00:09',
      addresses: ['203.0.113.50'],
      why: 'DHCP lease 203.0.113.50 for 52:54:00:aa:00:09',
    };
    const path = findPath(direct([g, lease]), '203.0.113.50');
    assert.equal(path.target.ifname, 'macvtap0');
    assert.deepEqual(
      path.hops.map((h) => `${h.ifname}:${h.role}`),
      ['eno1:uplink', 'macvtap0:backend'],
    );
    assert.match(path.candidates![0]!.why, /^macvtap of eno1; .*QEMU pid 6262/);
  });

  test('nothing joins it: the uplink subnet may be the wire too, the path ends at the uplink with the macvtap a candidate', () => {
    const path = findPath(direct([g]), '203.0.113.50');
    assert.deepEqual(
      path.hops.map((h) => h.ifname),
      ['eno1'],
    );
    assert.deepEqual(
      path.candidates!.map((c) => c.ifname),
      ['macvtap0'],
    );
    assert.match(
      path.notes[0]!,
      /the uplink's own subnet: 203\.0\.113\.50 is beyond eno1, or a guest on its macvtap macvtap0 \(no MAC joins the address to one\): the path ends at eno1/,
    );
    // diagnose's captures narrow it: the path then ends at the macvtap.
    const followed = findPath(direct([g]), '203.0.113.50', {
      backend: { netns: 'host', ifname: 'macvtap0', why: 'traffic for it seen there' },
    });
    assert.equal(followed.target.ifname, 'macvtap0');
  });
});
