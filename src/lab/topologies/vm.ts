import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { guestExec, guestPing, type GuestExecResult } from '../../host/guest-agent.js';
import { environmentError } from '../../errors.js';
import { libvirtDir, libvirtUri, startLibvirt, virsh } from '../libvirt.js';
import type { LabBuilder, LabTarget, LabTopology } from '../types.js';
import { addAddress, createNamespaces, up, vethPair } from './common.js';

/**
 * A libvirt/QEMU host with a real guest: the bridged topology's hypervisor,
 * but vm1 is a QEMU domain (TCG: no KVM needed) started by the lab's own
 * libvirtd, whose tap vnet0 libvirt plugs into br0 itself. The guest is a
 * Debian cloud kernel with a small initramfs (scripts/guest-image/build.sh):
 * busybox, iproute2's ip, nft, tcpdump and qemu-guest-agent.
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
  description: 'libvirt/QEMU host: a real guest vm1 (TCG, virtio NIC on tap vnet0, guest agent) on Linux bridge br0 (192.0.2.0/24)',
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
    await vethPair(lab, { role: 'client', ifname: 'eth0', mac: '02:00:00:00:00:64' }, { role: 'hv', ifname: 'eth0', mac: '02:00:00:00:01:01' });
    await lab.run('hv', ['ip', 'link', 'set', 'eth0', 'master', 'br0']);
    await Promise.all([up(lab, 'hv', 'br0'), up(lab, 'hv', 'eth0'), up(lab, 'client', 'eth0')]);
    await addAddress(lab, 'hv', 'br0', '192.0.2.1/24');
    await addAddress(lab, 'hv', 'br0', '2001:db8::1/64');
    await addAddress(lab, 'client', 'eth0', '192.0.2.100/24');
    await addAddress(lab, 'client', 'eth0', '2001:db8::100/64');
    await lab.run('hv', ['ip', 'route', 'add', 'default', 'via', '192.0.2.100', 'dev', 'br0']);
    await startGuest(lab, image);
  },
};

/**
 * The lab's private libvirtd, and vm1 defined, started and answering on its agent and its
 * service (nic: its interface when it is not a tap on br0).
 */
export async function startGuest(lab: LabBuilder, image: GuestImage, nic?: Parameters<typeof domainXml>[2]): Promise<void> {
  const uri = await startLibvirt(lab, 'hv');
  const xmlFile = `${libvirtDir(lab.ns('hv'))}/${VM_DOMAIN}.xml`;
  writeFileSync(xmlFile, domainXml(lab, image, nic), { mode: 0o600 });
  await virsh(lab, 'hv', ['define', '--file', xmlFile]);
  await virsh(lab, 'hv', ['start', '--domain', VM_DOMAIN], { timeoutMs: 60_000 });
  await waitForAgent(lab, uri);
  await lab.waitListening('client', VM1.address, VM1.port);
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
  const cmdline = existsSync(`${dir}/cmdline`) ? readFileSync(`${dir}/cmdline`, 'utf8').trim() : 'console=ttyS0 panic=-1';
  return { dir, kernel, initrd, cmdline };
}

/** Runs argv inside the lab's guest through its agent (faults and tests use it). */
export async function vmGuestExec(lab: LabBuilder, argv: string[], input?: string): Promise<GuestExecResult> {
  const r = await guestExec(lab.host, libvirtUri(lab.ns('hv')), VM_DOMAIN, argv, { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) {
    throw environmentError(`${argv.join(' ')} in guest ${VM_DOMAIN} failed (exit ${r.code}): ${r.stderr.toString('utf8').trim().split('\n')[0] ?? ''}`);
  }
  return r;
}

export async function waitForAgent(lab: LabBuilder, uri: string): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await guestPing(lab.host, uri, VM_DOMAIN, { timeoutMs: 2000 });
      return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const log = `${libvirtDir(lab.ns('hv'))}/${VM_DOMAIN}-console.log`;
  throw environmentError(`guest ${VM_DOMAIN} did not boot: its agent did not answer within ${BOOT_TIMEOUT_MS / 1000} s`, `see ${log} (${String(last)})`);
}

/** A UUID derived from the lab instance, so the same lab gets the same domain. */
function labUuid(lab: LabBuilder, what: string): string {
  const h = createHash('sha256').update(`${lab.instance}/${what}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The domain as Nova would define it, reduced: direct kernel boot, a virtio
 * NIC on br0, the guest agent's virtio-serial channel, the console into a
 * file, and Nova's instance metadata (the domain UUID is the instance's).
 */
export function domainXml(
  lab: LabBuilder,
  image: GuestImage,
  // The vm-macvtap lab: the same guest on a libvirt direct (macvtap) interface, its gateway the client.
  nic: { interfaceXml: string; gateway: string } = {
    interfaceXml: `<interface type='bridge'>
      <mac address='${VM1.mac}'/>
      <source bridge='br0'/>
      <target dev='${VM1.backend}'/>
      <model type='virtio'/>
      <driver name='qemu'/>
    </interface>`,
    gateway: '192.0.2.1',
  },
): string {
  const dir = libvirtDir(lab.ns('hv'));
  const cmdline = `${image.cmdline} hopdump.ip=${VM1.address}/24 hopdump.ip6=${VM1.address6}/64 hopdump.gw=${nic.gateway} hopdump.port=${VM1.port}`;
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
    <cmdline>${cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    ${nic.interfaceXml}
    <serial type='file'>
      <source path='${dir}/${VM_DOMAIN}-console.log'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
