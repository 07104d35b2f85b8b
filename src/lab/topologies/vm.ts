import { sleep } from '../../util/sleep.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { guestPing, type GuestExecResult } from '../../host/guest-agent.js';
import { environmentError } from '../../errors.js';
import { libvirtDir, startLibvirt, virsh } from '../libvirt.js';
import { LAB_CHANNEL, qgaExec, qgaPing } from '../qga.js';
import { makeQemuDir, qemuDir } from '../qemu.js';
import type { LabBuilder, LabTarget, LabTopology } from '../types.js';
import { addAddress, createNamespaces, up, vethPair } from './common.js';

/**
 * A libvirt/QEMU host with a real guest: the bridged topology's hypervisor,
 * but vm1 is a QEMU domain (TCG: no KVM needed) started by the lab's own
 * libvirtd, whose tap vnet0 libvirt plugs into br0 itself. The guest is a
 * Debian cloud kernel with a small initramfs (scripts/guest-image/build.sh):
 * busybox, iproute2's ip, nft, tcpdump and qemu-guest-agent.
 *
 * A variant draws the kind of guest (src/lab/variant.ts, guestKind): libvirt
 * with the guest agent (the fixed lab's), libvirt without it, or plain QEMU
 * started by the lab without libvirt, its tap put on br0 by the lab as
 * Proxmox VE's qemu-server does. Whatever the kind, the lab reaches inside
 * the guest through a channel of its own (src/lab/qga.ts), never the agent's.
 *
 *   client eth0 192.0.2.100 ── eth0 [hv: br0 192.0.2.1] vnet0 (tap) ══ virtio eth0 [vm1 192.0.2.11 tcp/80]
 */
export const VM_DOMAIN = 'vm1';
const GUEST_IMAGE_CACHE = process.env['HOPDUMP_GUEST_IMAGE_CACHE'] ?? '/var/cache/hopdump/guest-image';
/** TCG on a loaded 2-core machine: the guest agent answered after 4-5 s when measured (docs/vm-notes.md). */
const BOOT_TIMEOUT_MS = 180_000;

const VM1: LabTarget = {
  name: 'vm1',
  // The guest has no namespace of its own: its NIC is inside QEMU, whose
  // process (and tap) live in the hypervisor's namespace.
  role: 'hv',
  address: '192.0.2.11',
  address6: '2001:db8::11',
  mac: '52:54:00:00:00:11',
  backend: 'vnet0',
  port: 80,
};

export const vm: LabTopology = {
  name: 'vm',
  description:
    'libvirt/QEMU host: a real guest vm1 (TCG, virtio NIC on tap vnet0, guest agent) on Linux bridge br0 (192.0.2.0/24)',
  roles: ['client', 'hv'],
  hypervisor: 'hv',
  client: 'client',
  uplink: { ifname: 'eth0', address: '192.0.2.1' },
  targets: [VM1],
  // A real libvirt domain: by its name, the way an operator starts.
  suggestedTarget: 'vm1',
  async build(lab) {
    const image = guestImage();
    await createNamespaces(lab, this.roles);
    // libvirt hosts run br_netfilter: bridged IPv4 traverses iptables FORWARD.
    await lab.run('hv', ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    await lab.run('hv', ['ip', 'link', 'add', 'br0', 'address', '02:00:00:00:00:01', 'type', 'bridge']);
    await vethPair(
      lab,
      { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' },
      { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' },
    );
    await lab.run('hv', ['ip', 'link', 'set', 'eth0', 'master', 'br0']);
    await Promise.all([up(lab, 'hv', 'br0'), up(lab, 'hv', 'eth0'), up(lab, 'client', 'eth0')]);
    await addAddress(lab, 'hv', 'br0', '192.0.2.1/24');
    await addAddress(lab, 'hv', 'br0', '2001:db8::1/64');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8::100/64');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'br0']);
    await startGuest(lab, image, { type: 'bridge', bridge: 'br0', backend: VM1.backend, gateway: '192.0.2.1' });
  },
};

/** What a QEMU guest of the lab can be (the variant dimension guestKind, less 'namespace'). */
export type QemuGuestKind = 'libvirt+agent' | 'libvirt' | 'qemu';

/** The kind of guest this lab runs: the variant's, else libvirt with its agent. */
export function guestKindOf(lab: Pick<LabBuilder, 'variant'>): QemuGuestKind {
  const k = lab.variant?.drawn.guestKind;
  return k === 'libvirt' || k === 'qemu' ? k : 'libvirt+agent';
}

/**
 * How the guest's NIC is attached, in the lab's canonical names: a tap on a bridge, or a
 * macvtap of a host device (libvirt's `direct`); gateway: the guest's default route.
 */
export type GuestAttachment =
  | { type: 'bridge'; bridge: string; backend: string; gateway: string }
  | { type: 'direct'; dev: string; backend: string; gateway: string };

/**
 * vm1 started as the lab's kind of guest (libvirt's domain under the lab's private libvirtd, or
 * plain QEMU) and answering on the lab's channel, on its agent when it has one, and on its service.
 */
export async function startGuest(lab: LabBuilder, image: GuestImage, attach: GuestAttachment): Promise<void> {
  const kind = guestKindOf(lab);
  if (kind === 'qemu') {
    await startPlainQemu(lab, image, attach);
  } else {
    const uri = await startLibvirt(lab, 'hv');
    const xmlFile = `${libvirtDir(lab.ns('hv'), lab.daemonDir)}/${VM_DOMAIN}.xml`;
    // The canonical XML in the variant's names, addresses, MAC and port, down to the kernel command line.
    writeFileSync(xmlFile, lab.real('hv', domainXml(lab, image, attach, kind === 'libvirt+agent')), { mode: 0o600 });
    await virsh(lab, 'hv', ['define', '--file', xmlFile]);
    await virsh(lab, 'hv', ['start', '--domain', VM_DOMAIN], { timeoutMs: 60_000 });
    await waitForLabChannel(lab);
    if (kind === 'libvirt+agent') await waitForAgent(lab, uri);
  }
  await lab.waitListening('client', VM1.address, VM1.port);
}

/**
 * Plain QEMU, daemonized with its pid file in the lab's directory: `-netdev tap,ifname=` with
 * script=no and the tap put on the bridge here afterwards (Proxmox VE's qemu-server: its
 * pve-bridge script does that), or a macvtap the lab makes, opened as /dev/tapIFINDEX and
 * passed as fd 3 (as libvirt passes it).
 */
async function startPlainQemu(lab: LabBuilder, image: GuestImage, attach: GuestAttachment): Promise<void> {
  if (!lab.host.hasProgram('qemu-system-x86_64'))
    throw environmentError('qemu-system-x86_64 not found', 'make deps (apt-get install qemu-system-x86)');
  const dir = makeQemuDir(lab.ns('hv'), lab.daemonDir);
  let tapDevice: string | undefined;
  if (attach.type === 'direct') {
    await lab.run('hv', [
      'ip',
      'link',
      'add',
      'link',
      attach.dev,
      'name',
      attach.backend,
      'address',
      VM1.mac,
      'type',
      'macvtap',
      'mode',
      'bridge',
    ]);
    await lab.run('hv', ['ip', 'link', 'set', attach.backend, 'up']);
    const ifindex = (await lab.run('hv', ['cat', `/sys/class/net/${attach.backend}/ifindex`])).stdout.trim();
    tapDevice = `/dev/tap${ifindex}`;
  }
  const netdev =
    attach.type === 'bridge' ? `tap,id=net0,ifname=${attach.backend},script=no,downscript=no` : 'tap,id=net0,fd=3';
  const qemu = [
    'qemu-system-x86_64',
    '-name',
    `guest=${VM_DOMAIN},debug-threads=on`,
    '-machine',
    'pc,accel=tcg',
    '-m',
    '256',
    '-smp',
    '1',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    guestCmdline(image, attach, [LAB_CHANNEL]),
    '-netdev',
    netdev,
    '-device',
    `virtio-net-pci,netdev=net0,mac=${VM1.mac},id=net0`,
    '-chardev',
    `socket,id=hdlab,path=${dir}/${VM_DOMAIN}-lab.sock,server=on,wait=off`,
    '-device',
    'virtio-serial-pci,id=vser0',
    '-device',
    `virtserialport,bus=vser0.0,chardev=hdlab,name=${LAB_CHANNEL}`,
    '-serial',
    `file:${dir}/${VM_DOMAIN}-console.log`,
    '-pidfile',
    `${dir}/${VM_DOMAIN}.pid`,
    '-daemonize',
  ];
  // The macvtap's character device as fd 3 (a path argument: never pasted into the script).
  const argv = tapDevice ? ['sh', '-c', 'dev=$1; shift; exec "$@" 3<>"$dev"', 'sh', tapDevice, ...qemu] : qemu;
  await lab.run('hv', argv, { timeoutMs: 60_000 });
  if (attach.type === 'bridge') {
    await lab.run('hv', ['ip', 'link', 'set', attach.backend, 'master', attach.bridge]);
    await lab.run('hv', ['ip', 'link', 'set', attach.backend, 'up']);
  }
  await waitForLabChannel(lab);
}

/** The guest kernel's command line: its addresses, route and port, and the virtio-serial ports to run qemu-ga on. */
function guestCmdline(image: GuestImage, attach: GuestAttachment, channels: string[]): string {
  return `${image.cmdline} hopdump.ip=${VM1.address}/24 hopdump.ip6=${VM1.address6}/64 hopdump.gw=${attach.gateway} hopdump.port=${VM1.port} hopdump.qga=${channels.join(',')}`;
}

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
}

/** The image `make guest-image` built last. */
export function guestImage(): GuestImage {
  const dir = `${GUEST_IMAGE_CACHE}/current`;
  const kernel = `${dir}/vmlinuz`;
  const initrd = `${dir}/initrd.gz`;
  if (!existsSync(kernel) || !existsSync(initrd)) {
    throw environmentError(`no guest image in ${GUEST_IMAGE_CACHE}`, 'make guest-image (scripts/guest-image/build.sh)');
  }
  const cmdline = existsSync(`${dir}/cmdline`)
    ? readFileSync(`${dir}/cmdline`, 'utf8').trim()
    : 'console=ttyS0 panic=-1';
  return { dir, kernel, initrd, cmdline };
}

/** The directory of the lab's guest: its libvirtd's, or plain QEMU's. */
function guestDir(lab: Pick<LabBuilder, 'variant' | 'ns' | 'daemonDir'>): string {
  return guestKindOf(lab) === 'qemu' ? qemuDir(lab.ns('hv'), lab.daemonDir) : libvirtDir(lab.ns('hv'), lab.daemonDir);
}

/** The host end of the lab's own channel into the guest (src/lab/qga.ts). */
export function labChannel(lab: Pick<LabBuilder, 'variant' | 'ns' | 'daemonDir'>): string {
  return `${guestDir(lab)}/${VM_DOMAIN}-lab.sock`;
}

/**
 * Runs argv inside the lab's guest through the lab's own channel (faults and tests use it), in
 * the variant's addresses, MACs and ports; the guest's NIC keeps its kernel's name, eth0.
 */
export async function vmGuestExec(lab: LabBuilder, argv: string[], input?: string): Promise<GuestExecResult> {
  const tr = (s: string) => lab.real(VM_DOMAIN, s);
  const r = await qgaExec(labChannel(lab), argv.map(tr), {
    timeoutMs: 30_000,
    ...(input !== undefined ? { input: tr(input) } : {}),
  });
  if (r.code !== 0) {
    throw environmentError(
      `${argv.join(' ')} in guest ${VM_DOMAIN} failed (exit ${r.code}): ${r.stderr.toString('utf8').trim().split('\n')[0] ?? ''}`,
    );
  }
  return r;
}

async function waitUntil(lab: LabBuilder, what: string, attempt: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await attempt();
      return;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  const log = `${guestDir(lab)}/${VM_DOMAIN}-console.log`;
  throw environmentError(
    `guest ${VM_DOMAIN} did not boot: ${what} did not answer within ${BOOT_TIMEOUT_MS / 1000} s`,
    `see ${log} (${String(last)})`,
  );
}

/** Until the guest's qemu-ga answers on the lab's channel. */
export function waitForLabChannel(lab: LabBuilder): Promise<void> {
  return waitUntil(lab, `the lab's channel (${LAB_CHANNEL})`, () => qgaPing(labChannel(lab), 2000));
}

/** Until the guest agent answers through libvirt, as hopdump will ask it. */
export function waitForAgent(lab: LabBuilder, uri: string): Promise<void> {
  return waitUntil(lab, 'its agent', () => guestPing(lab.host, uri, VM_DOMAIN, { timeoutMs: 2000 }));
}

/** A UUID derived from the lab instance, so the same lab gets the same domain. */
function labUuid(lab: LabBuilder, what: string): string {
  const h = createHash('sha256').update(`${lab.instance}/${what}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The domain as Nova would define it, reduced, in the lab's canonical names: direct kernel boot,
 * a virtio NIC (a tap on the bridge, or libvirt's direct macvtap), the guest agent's virtio-serial
 * channel when the guest has one, the lab's own channel, the console into a file, and Nova's
 * instance metadata (the domain UUID is the instance's).
 */
export function domainXml(lab: LabBuilder, image: GuestImage, attach: GuestAttachment, agent: boolean): string {
  const dir = libvirtDir(lab.ns('hv'), lab.daemonDir);
  const interfaceXml =
    attach.type === 'bridge'
      ? `<interface type='bridge'>
      <mac address='${VM1.mac}'/>
      <source bridge='${attach.bridge}'/>
      <target dev='${attach.backend}'/>
      <model type='virtio'/>
      <driver name='qemu'/>
    </interface>`
      : `<interface type='direct'>
      <mac address='${VM1.mac}'/>
      <source dev='${attach.dev}' mode='bridge'/>
      <target dev='${attach.backend}'/>
      <model type='virtio'/>
    </interface>`;
  const channels = agent ? ['org.qemu.guest_agent.0', LAB_CHANNEL] : [LAB_CHANNEL];
  const agentXml = agent
    ? `<channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    `
    : '';
  return `<domain type='qemu'>
  <name>${VM_DOMAIN}</name>
  <uuid>${labUuid(lab, 'instance')}</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="hopdump-lab"/>
      <nova:name>${VM_DOMAIN}</nova:name>
      <nova:flavor name="hd.tiny">
        <nova:memory>256</nova:memory>
        <nova:disk>0</nova:disk>
        <nova:vcpus>1</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="${labUuid(lab, 'user')}">lab</nova:user>
        <nova:project uuid="${labUuid(lab, 'project')}">lab</nova:project>
      </nova:owner>
      <nova:ports>
        <nova:port uuid="${labUuid(lab, 'port')}">
          <nova:ip type="fixed" address="${VM1.address}" ipVersion="4"/>
        </nova:port>
      </nova:ports>
    </nova:instance>
  </metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${image.kernel}</kernel>
    <initrd>${image.initrd}</initrd>
    <cmdline>${guestCmdline(image, attach, channels)}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    ${interfaceXml}
    <serial type='file'>
      <source path='${dir}/${VM_DOMAIN}-console.log'/>
      <target port='0'/>
    </serial>
    ${agentXml}<channel type='unix'>
      <source mode='bind' path='${dir}/${VM_DOMAIN}-lab.sock'/>
      <target type='virtio' name='${LAB_CHANNEL}'/>
    </channel>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
