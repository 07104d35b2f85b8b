import assert from 'node:assert/strict';
import { test } from 'node:test';
import { host, withLab } from '../helpers/lab.js';

/** The QEMU command line libvirt really writes: its taps passed by fd (`-netdev {"type":"tap","fd":"N",…}`), named through fdinfo. */
const skip = (() => {
  for (const p of ['qemu-system-x86_64', 'libvirtd', 'virsh'])
    if (!host.hasProgram(p)) return `${p} not installed (make deps)`;
  return false;
})();

test(
  "guest sources on the vm lab: libvirt's QEMU, its tap passed by fd and named through /proc/PID/fdinfo, in the hypervisor's namespace",
  { skip },
  async () => {
    await withLab({ topology: 'vm', prefix: 'sg' }, async (lab) => {
      const t = await lab.discover();
      const qemu = (t.guests ?? []).filter((g) => g.source === 'qemu');
      const vm1 = qemu.find((g) => g.mac === '52:54:00:00:00:11');
      assert.ok(vm1, JSON.stringify(t.guests, null, 1));
      assert.equal(vm1.netns, lab.state.hypervisor, 'placed in the namespace QEMU runs in');
      assert.equal(vm1.ifname, 'vnet0');
      assert.ok(vm1.pid! > 1);
      // libvirt (Debian 12's 9.0) passes the tap as an fd, in JSON form: its name comes from the tun driver's fdinfo.
      assert.match(
        vm1.why,
        /-netdev \{"type":"tap","fd":"\d+".*"mac":"52:54:00:00:00:11".* \(fd \d+ is vnet0, \/proc\/\d+\/fdinfo\)$/,
        vm1.why,
      );
      // QEMU processes of other labs (other namespaces) are not this host's.
      assert.ok(
        qemu.every((g) => g.netns === lab.state.hypervisor),
        JSON.stringify(qemu.map((g) => [g.netns, g.ifname])),
      );
    });
  },
);
