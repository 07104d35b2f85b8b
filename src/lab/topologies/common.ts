import type { LabBuilder } from '../types.js';

/** Creates the namespaces with loopback up and known sysctl defaults. */
export async function createNamespaces(lab: LabBuilder, roles: string[]): Promise<void> {
  for (const role of roles) {
    await lab.host.run(['ip', 'netns', 'add', lab.ns(role)]);
  }
  await Promise.all(
    roles.map(async (role) => {
      await lab.run(role, ['ip', 'link', 'set', 'lo', 'up']);
      // New namespaces inherit rp_filter from the host's; the lab wants known values.
      await lab.run(role, [
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.default.router_solicitations=0',
      ]);
    }),
  );
}

/**
 * A veth pair made directly in the two namespaces (nothing passes through the
 * root namespace), with fixed MACs so that captures and tests are readable.
 */
export async function vethPair(
  lab: LabBuilder,
  a: { role: string; ifname: string; mac: string },
  b: { role: string; ifname: string; mac: string },
): Promise<void> {
  // Each end is named in its own role's terms (a variant may name them differently).
  await lab.host.run(
    [
      'ip',
      'link',
      'add',
      lab.real(a.role, a.ifname),
      'address',
      lab.real(a.role, a.mac),
      'type',
      'veth',
      'peer',
      'name',
      lab.real(b.role, b.ifname),
      'address',
      lab.real(b.role, b.mac),
      'netns',
      lab.ns(b.role),
    ],
    { netns: lab.ns(a.role) },
  );
}

export async function up(lab: LabBuilder, role: string, ifname: string): Promise<void> {
  await lab.run(role, ['ip', 'link', 'set', ifname, 'up']);
}

export async function addAddress(lab: LabBuilder, role: string, ifname: string, cidr: string): Promise<void> {
  const argv = ['ip', 'addr', 'add', cidr, 'dev', ifname];
  if (cidr.includes(':')) argv.push('nodad');
  await lab.run(role, argv);
}

/**
 * A TCP service: OpenBSD netcat listening, keep-open, never reading stdin.
 * With address6, a second one listens on [::]: OpenBSD nc binds one family
 * per process (its IPv6 socket is IPV6_V6ONLY), so a dual-stack guest runs two.
 */
export async function startService(
  lab: LabBuilder,
  role: string,
  address: string,
  port: number,
  address6?: string,
): Promise<void> {
  await lab.daemon(role, ['nc', '-4', '-dlk', String(port)]);
  if (address6) await lab.daemon(role, ['nc', '-6', '-dlk', String(port)]);
  await lab.waitListening(role, address, port);
  if (address6) await lab.waitListening(role, address6, port);
}
