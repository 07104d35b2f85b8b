/**
 * Which Debian package provides each program hopdump runs, so that a missing
 * program is reported as "X not found: apt-get install PKG".
 */
const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  tc: 'iproute2',
  ss: 'iproute2',
  tcpdump: 'tcpdump',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  ip6tables: 'iptables',
  'ip6tables-save': 'iptables',
  nft: 'nftables',
  ebtables: 'ebtables',
  ping: 'iputils-ping',
  fping: 'fping',
  arping: 'arping',
  nc: 'netcat-openbsd',
  ethtool: 'ethtool',
  sysctl: 'procps',
  nsenter: 'util-linux',
  setpriv: 'util-linux',
  unshare: 'util-linux',
  tshark: 'tshark',
  grep: 'grep',
  'ovs-vsctl': 'openvswitch-switch',
  'ovs-ofctl': 'openvswitch-switch',
  'ovs-appctl': 'openvswitch-switch',
  'ovsdb-tool': 'openvswitch-switch',
  'ovsdb-server': 'openvswitch-switch',
  'ovs-vswitchd': 'openvswitch-switch',
  virsh: 'libvirt-clients',
};

export function packageFor(program: string): string | undefined {
  const base = program.split('/').pop() ?? program;
  return PACKAGE_OF[base];
}

export function missingProgramHint(program: string): string {
  const pkg = packageFor(program);
  return pkg ? `apt-get install ${pkg}` : `install ${program} or put it on PATH`;
}
