import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { nameByIfindex, placeGuests, readGuests } from '../../src/collect/guests/index.js';
import { parseIncusBackup, readIncusGuests } from '../../src/collect/guests/incus.js';
import { parseDnsmasqLeases, parseDomainStatusXml, parseLeaseStatus } from '../../src/collect/guests/libvirt-files.js';
import { parseLxcConfig } from '../../src/collect/guests/lxc.js';
import { parseProxmoxLxcConf, parseProxmoxVmConf } from '../../src/collect/guests/proxmox.js';
import {
  parseQemuCmdline,
  parseQemuOption,
  parseTapDevice,
  parseTunFdinfo,
  readQemuGuests,
} from '../../src/collect/guests/qemu.js';
import type { Namespace } from '../../src/model/topology.js';
import { GuestNicSchema, type GuestNic } from '../../src/model/guests.js';

const root = (platform: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/hosts/${platform}.recorded`, import.meta.url));
const file = (platform: string, path: string) => readFileSync(`${root(platform)}/${path}`, 'utf8');
const brief = (g: {
  source: string;
  mac?: string | undefined;
  ifname?: string | undefined;
  bridge?: string | undefined;
  addresses: string[];
}) => [g.source, g.mac ?? '-', g.ifname ?? '-', g.bridge ?? '-', g.addresses.join(' ') || '-'].join(' ');

describe('QEMU command lines', () => {
  test('option syntax: implied key, ",," is a comma, libvirt JSON', () => {
    assert.deepEqual(parseQemuOption('tap,id=n0,ifname=tap0,script=no', 'type'), {
      type: 'tap',
      id: 'n0',
      ifname: 'tap0',
      script: 'no',
    });
    assert.deepEqual(parseQemuOption('user,id=u,hostfwd=tcp::2222-:22,,x', 'type'), {
      type: 'user',
      id: 'u',
      hostfwd: 'tcp::2222-:22,x',
    });
    assert.deepEqual(
      parseQemuOption('{"driver":"virtio-net-pci","netdev":"hostnet0","mac":"52:54:00:6B:3C:58"}', 'driver'),
      {
        driver: 'virtio-net-pci',
        netdev: 'hostnet0',
        mac: '52:54:00:6B:3C:58',
      },
    );
  });

  test('-netdev tap,ifname joined to its -device by netdev id; -nic tap; fd= kept for fdinfo', () => {
    const argv = readFileSync(`${root('qemu')}/proc/4242/cmdline`, 'utf8').split('\0');
    const nics = parseQemuCmdline(argv);
    assert.deepEqual(
      nics.map((n) => [n.ifname, n.mac, n.fd]),
      [
        ['tap1', '52:54:00:12:34:02', undefined],
        ['tap0', '52:54:00:12:34:01', undefined],
      ],
    );
    const lv = parseQemuCmdline(readFileSync(`${root('qemu')}/proc/5151/cmdline`, 'utf8').split('\0'));
    assert.deepEqual(
      lv.map((n) => [n.id, n.ifname, n.mac, n.fd]),
      [['hostnet0', undefined, '52:54:00:6b:3c:58', 33]],
    );
  });

  test('-netdev bridge,br=X (qemu-bridge-helper): the bridge, no tap name', () => {
    const nics = parseQemuCmdline([
      'qemu-system-x86_64',
      '-netdev',
      'bridge,id=hn0,br=virbr1',
      '-device',
      'e1000,netdev=hn0,mac=52:54:00:12:34:03',
      '-netdev',
      'user,id=u0',
    ]);
    assert.deepEqual(
      nics.map((n) => [n.bridge, n.ifname, n.mac]),
      [['virbr1', undefined, '52:54:00:12:34:03']],
    );
  });

  test("a tun fd's tap from fdinfo's iff: line (absent for other fds)", () => {
    assert.equal(parseTunFdinfo(file('qemu', 'proc/5151/fdinfo/33')), 'vnet2');
    assert.equal(parseTunFdinfo(file('qemu', 'proc/5151/fdinfo/35')), undefined);
  });

  test('every qemu-system process of a /proc tree, not other processes; the pid and options in why', () => {
    const guests = readQemuGuests(root('qemu'));
    guests.forEach((g) => GuestNicSchema.parse(g));
    assert.deepEqual(guests.map(brief).sort(), [
      'qemu 52:54:00:12:34:01 tap0 - -',
      'qemu 52:54:00:12:34:02 tap1 - -',
      // A macvtap passed as fd 3: known by its ifindex until its namespace is (nameByIfindex).
      'qemu 52:54:00:12:34:07 - - -',
      'qemu 52:54:00:6b:3c:58 vnet2 - -',
    ]);
    const web1 = guests.find((g) => g.ifname === 'vnet2')!;
    assert.equal(web1.pid, 5151);
    assert.equal(web1.name, 'web1');
    assert.match(
      web1.why,
      /^QEMU pid 5151 \(web1\) -netdev \{"type":"tap","fd":"33".*fd 33 is vnet2, \/proc\/5151\/fdinfo/,
    );
  });
});

describe('QEMU on a macvtap opened by file descriptor', () => {
  test("fdinfo has no iff: line for a macvtap; the fd's link /dev/tapIFINDEX gives the ifindex", () => {
    assert.equal(parseTunFdinfo(file('qemu', 'proc/6262/fdinfo/3')), undefined);
    assert.equal(parseTapDevice('/dev/tap7'), 7);
    assert.equal(parseTapDevice('/dev/net/tun'), undefined);
    assert.equal(parseTapDevice('/dev/tap7x'), undefined);
    const g = readQemuGuests(root('qemu')).find((x) => x.pid === 6262)!;
    assert.equal(g.ifindex, 7);
    assert.equal(g.ifname, undefined);
    assert.match(g.why, /fd 3 is \/dev\/tap7: the macvtap with ifindex 7/);
  });

  test('named from the interface with that ifindex in the namespace QEMU runs in', () => {
    const g = readQemuGuests(root('qemu')).find((x) => x.pid === 6262)!;
    const ns = {
      id: 'hv',
      interfaces: [
        { ifindex: 2, ifname: 'eno1' },
        { ifindex: 7, ifname: 'macvtap3' },
      ],
    } as unknown as Namespace;
    const named = nameByIfindex(g, ns);
    assert.equal(named.ifname, 'macvtap3');
    assert.match(named.why, /ifindex 7\): macvtap3$/);
    GuestNicSchema.parse(named);
    // Another namespace, no such ifindex: left unnamed rather than guessed.
    assert.equal(nameByIfindex(g, { id: 'x', interfaces: [] } as unknown as Namespace).ifname, undefined);
  });
});

describe('libvirt files', () => {
  test('domain status XML: each NIC with its tap, bridge and the QEMU pid', () => {
    const nics = parseDomainStatusXml(file('libvirt', 'run/libvirt/qemu/web1.xml'), '/run/libvirt/qemu/web1.xml');
    assert.deepEqual(nics.map(brief), [
      'libvirt 52:54:00:6b:3c:58 vnet2 virbr0 -',
      'libvirt 52:54:00:6b:3c:59 vnet3 br-lan -',
    ]);
    assert.equal(nics[0]!.pid, 5151);
    assert.equal(nics[0]!.name, 'web1');
  });

  test('leaseshelper status JSON (named after the bridge) and dnsmasq lease lines; DHCPv6 IAID lines skipped', () => {
    const status = parseLeaseStatus(
      file('libvirt', 'var/lib/libvirt/dnsmasq/virbr0.status'),
      '/var/lib/libvirt/dnsmasq/virbr0.status',
    );
    assert.deepEqual(status.map(brief), [
      'libvirt-lease 52:54:00:6b:3c:58 - virbr0 192.0.2.45',
      'libvirt-lease 52:54:00:6b:3c:58 - virbr0 2001:db8:ca2:2::1a',
    ]);
    const leases = parseDnsmasqLeases(file('libvirt', 'var/lib/libvirt/dnsmasq/default.leases'), 'default.leases');
    assert.deepEqual(leases.map(brief), [
      'libvirt-lease 52:54:00:aa:01:02 - - 192.0.2.46',
      'libvirt-lease 52:54:00:aa:01:03 - - 192.0.2.47',
    ]);
    assert.deepEqual(
      leases.map((l) => l.name),
      ['db1', undefined],
    );
    assert.deepEqual(parseLeaseStatus('', 'x.status'), []);
  });
});

describe('Proxmox VE configs', () => {
  test('VM: MODEL=MAC per netN, tap<vmid>i<n>, firewall=1 puts it on fwbr<vmid>i<n>, ipconfig gives the address, snapshots ignored', () => {
    const nics = parseProxmoxVmConf(
      file('proxmox', 'etc/pve/qemu-server/100.conf'),
      '100',
      '/etc/pve/qemu-server/100.conf',
    );
    assert.deepEqual(nics.map(brief), [
      'proxmox bc:24:11:5e:7a:01 tap100i0 fwbr100i0 198.51.100.20',
      'proxmox bc:24:11:5e:7a:02 tap100i1 vmbr1 -',
    ]);
    assert.equal(nics[0]!.name, '100 (web01)');
  });

  test('container: hwaddr, ip/ip6 without prefix length, veth<vmid>i<n>; dhcp is no address', () => {
    const nics = parseProxmoxLxcConf(file('proxmox', 'etc/pve/lxc/101.conf'), '101', '/etc/pve/lxc/101.conf');
    assert.deepEqual(nics.map(brief), [
      'proxmox bc:24:11:9a:4c:10 veth101i0 fwbr101i0 198.51.100.31 2001:db8:100::31',
      'proxmox bc:24:11:9a:4c:11 veth101i1 vmbr1 -',
    ]);
  });
});

describe('LXC configs', () => {
  test('lxc.net.N keys; an hwaddr template (xx) is no MAC', () => {
    const nics = parseLxcConfig(file('lxc', 'var/lib/lxc/web/config'), 'web', '/var/lib/lxc/web/config');
    assert.deepEqual(nics.map(brief), ['lxc 00:16:3e:4f:21:7a vethweb0 lxcbr0 203.0.113.15', 'lxc - - lxcbr1 -']);
  });

  test("LXC 2's lxc.network.* keys", () => {
    const nics = parseLxcConfig(file('lxc', 'var/lib/lxc/legacy/config'), 'legacy', '/var/lib/lxc/legacy/config');
    assert.deepEqual(nics.map(brief), ['lxc 00:16:3e:12:34:56 - lxcbr0 203.0.113.16']);
  });
});

describe('Incus and LXD backup.yaml', () => {
  test("a container's expanded_devices: network or parent is the bridge, volatile.DEVICE.hwaddr/host_name, a static ipv4.address; a macvlan NIC has no bridge", () => {
    const nics = parseIncusBackup(
      file('incus', 'var/lib/incus/containers/web/backup.yaml'),
      'Incus',
      '/var/lib/incus/containers/web/backup.yaml',
    );
    nics.forEach((g) => GuestNicSchema.parse(g));
    assert.deepEqual(nics.map(brief), [
      'incus 10:66:6a:5a:8c:11 veth5f0e2a7b incusbr0 203.0.113.10',
      'incus 10:66:6a:5a:8c:12 mac6b0d4e21 - -',
    ]);
    assert.equal(nics[0]!.name, 'web');
    assert.equal(
      nics[0]!.why,
      'Incus container web /var/lib/incus/containers/web/backup.yaml device eth0: network incusbr0, hwaddr 10:66:6a:5a:8c:11, host_name veth5f0e2a7b, address 203.0.113.10',
    );
  });

  test("a VM's tap from volatile; a stopped container in another project: the device's own hwaddr wins over volatile, no host_name", () => {
    const vm = parseIncusBackup(file('incus', 'var/lib/incus/virtual-machines/db/backup.yaml'), 'Incus', 'db');
    assert.deepEqual(vm.map(brief), ['incus 10:66:6a:7c:21:04 tap3c9d1e02 incusbr0 -']);
    assert.match(vm[0]!.why, /^Incus VM db /);
    const api = parseIncusBackup(file('incus', 'var/lib/incus/containers/shop_api/backup.yaml'), 'Incus', 'api');
    assert.deepEqual(api.map(brief), ['incus 10:66:6a:e1:0f:30 - br-lan 2001:db8:113::30']);
    assert.equal(api[0]!.name, 'shop/api');
  });

  test('Incus and the LXD snap under one root; not YAML or no instance: a warning or nothing, not an exception', () => {
    const warnings: string[] = [];
    const all = readIncusGuests(root('incus'), warnings);
    assert.deepEqual(
      all.map((g) => `${g.name} ${g.ifname ?? '-'}`),
      ['shop/api -', 'web veth5f0e2a7b', 'web mac6b0d4e21', 'db tap3c9d1e02', 'legacy veth91c2d4f0'],
    );
    assert.match(
      all.at(-1)!.why,
      /^LXD container legacy \/var\/snap\/lxd\/common\/lxd\/containers\/legacy\/backup\.yaml device eth0: network lxdbr0/,
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(parseIncusBackup('pool:\n  name: default\n', 'Incus', 'x'), []);
    assert.throws(() => parseIncusBackup('container: [unclosed', 'Incus', 'x'));
  });
});

test('readGuests reads each source only where its files exist, under the root given', () => {
  const warnings: string[] = [];
  assert.deepEqual(
    readGuests(root('proxmox'), warnings).map((g) => g.source),
    ['proxmox', 'proxmox', 'proxmox', 'proxmox'],
  );
  assert.deepEqual(
    readGuests(root('lxc'), warnings).map((g) => g.source),
    ['lxc', 'lxc', 'lxc'],
  );
  assert.deepEqual(
    readGuests(root('incus'), warnings).map((g) => g.source),
    ['incus', 'incus', 'incus', 'incus', 'incus'],
  );
  assert.equal(readGuests(root('libvirt'), warnings).filter((g) => g.source === 'libvirt-lease').length, 4);
  assert.deepEqual(readGuests('/nonexistent-root', warnings), []);
  assert.deepEqual(warnings, []);
});

test("placeGuests: a QEMU in a namespace not collected is dropped; with --netns a config file's device names are not the namespace's", () => {
  const qemu: GuestNic = {
    source: 'qemu',
    mac: '52:54:00:00:00:99',
    ifname: 'tap9',
    addresses: [],
    pid: 1,
    netnsInode: 1,
    why: 'QEMU pid 1',
  };
  const conf: GuestNic = {
    source: 'proxmox',
    mac: 'bc:24:11:00:00:01',
    ifname: 'tap100i0',
    addresses: ['198.51.100.20'],
    why: '100.conf',
  };
  const lease: GuestNic = {
    source: 'libvirt-lease',
    mac: '52:54:00:00:00:98',
    addresses: ['192.0.2.45'],
    why: 'lease',
  };
  // No namespace here has inode 1 (it is no namespace file's).
  assert.deepEqual(
    placeGuests([qemu, conf, lease], [], false, true).map((g) => g.source),
    ['proxmox', 'libvirt-lease'],
  );
  const netnsMode = placeGuests([conf, lease], [], false, false);
  assert.deepEqual(
    netnsMode.map((g) => [g.ifname, g.mac, g.addresses.join()]),
    [
      [undefined, 'bc:24:11:00:00:01', '198.51.100.20'],
      [undefined, '52:54:00:00:00:98', '192.0.2.45'],
    ],
  );
});
