import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { discover } from '../../src/collect/discover.js';
import { findPath } from '../../src/path/find.js';
import { host, withLab } from '../helpers/lab.js';

test('an unnamed namespace (a container) is found through its process and its veth peer is resolved', async () => {
  await withLab({ topology: 'bridged', prefix: 'u' }, async (lab) => {
    const { ct, pid } = await container(lab.state.hypervisor, 'vethct0');
    try {
      await host.run(['ip', 'addr', 'add', '192.0.2.50/24', 'dev', 'eth0'], { netns: `pid:${pid}` });
      const t = await discover({ host });
      const ns = t.namespaces.find((n) => n.id === `pid:${pid}`);
      assert.ok(ns, `namespace pid:${pid} discovered (have ${t.namespaces.length})`);
      assert.equal(ns.name, null);
      assert.match(ns.enteredVia ?? '', new RegExp(`nsenter --net=/proc/${pid}/ns/net`));
      const eth0 = ns.interfaces.find((i) => i.ifname === 'eth0')!;
      assert.deepEqual([eth0.peer?.netns, eth0.peer?.ifname], [lab.state.hypervisor, 'vethct0']);
      // From the hypervisor's point of view too (a container started inside it).
      const hv = await discover({ host, netns: lab.state.hypervisor });
      assert.equal(hv.namespaces.find((n) => n.id === `pid:${pid}`)?.collected, true);
      const path = findPath(hv, '192.0.2.50');
      assert.equal(path.complete, true);
      assert.deepEqual(
        path.hops.map((h) => `${h.ifname}:${h.role}`),
        ['eth0:uplink', 'br0:bridge', 'vethct0:backend', 'eth0:guest-nic'],
      );
      assert.equal(path.hops.at(-1)!.netns, `pid:${pid}`);
    } finally {
      ct.kill('SIGKILL');
    }
  });
});

test('an unnamed namespace is entered through its oldest process, not a younger one with a lower pid', async () => {
  await withLab({ topology: 'bridged', prefix: 'u' }, async (lab) => {
    const { ct, pid } = await container(lab.state.hypervisor, 'vethct1');
    const younger: number[] = [];
    try {
      // A later process in the same namespace (a `docker exec`) that got a lower pid (pids wrap):
      // the next pid is set below the container's through ns_last_pid, at a free one, by a shell
      // that forks right after (other programs forking in between take it: tried again).
      let low: number | undefined;
      for (let attempt = 0; attempt < 50 && low === undefined; attempt++) {
        const taken = new Set(
          readdirSync('/proc')
            .filter((e) => /^\d+$/.test(e))
            .map(Number),
        );
        let free = pid - 1;
        while (free > 300 && (taken.has(free) || taken.has(free - 1))) free--;
        if (free <= 300) break;
        const r = await host.run([
          'sh',
          '-c',
          'echo "$1" > /proc/sys/kernel/ns_last_pid; nsenter --net="$2" sleep 60 >/dev/null 2>&1 & echo $!',
          'sh',
          String(free - 1),
          `/proc/${pid}/ns/net`,
        ]);
        const p = Number(r.stdout.trim());
        younger.push(p);
        if (p < pid) low = p;
      }
      if (low === undefined) {
        assert.fail(`could not start a process with a pid below ${pid}`);
      }
      // The younger process has entered the namespace (nsenter execs sleep in it).
      for (let i = 0; i < 50; i++) {
        const ns = readlinkOr(`/proc/${low}/ns/net`);
        if (ns && ns === readlinkOr(`/proc/${pid}/ns/net`)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(readlinkOr(`/proc/${low}/ns/net`), readlinkOr(`/proc/${pid}/ns/net`));
      const t = await discover({ host, netns: lab.state.hypervisor });
      assert.equal(t.namespaces.find((n) => n.id === `pid:${pid}`)?.collected, true, 'entered through the container');
      assert.ok(!t.namespaces.some((n) => n.id === `pid:${low}`), 'not through the younger process');
    } finally {
      for (const p of younger) signal(p);
      ct.kill('SIGKILL');
    }
  });
});

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function readlinkOr(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A "container": a process in a namespace of its own, without a name in /run/netns, started from
 * the hypervisor's namespace, its eth0 paired with `veth` on the lab's br0. Kill `ct` when done.
 */
async function container(hypervisor: string, veth: string): Promise<{ ct: ChildProcess; pid: number }> {
  const ct = spawn('ip', ['netns', 'exec', hypervisor, 'unshare', '--net', '--', 'sleep', '60'], { stdio: 'ignore' });
  // ip netns exec and unshare exec what follows them: the child is the sleep, once they have.
  let pid: number | undefined;
  for (let i = 0; i < 50 && pid === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const r = await host.run(['ps', '-o', 'comm=', '-p', String(ct.pid)], { okCodes: 'any' });
    if (r.stdout.trim() === 'sleep') pid = ct.pid;
  }
  if (pid === undefined) {
    ct.kill('SIGKILL');
    assert.fail('the container process did not start');
  }
  try {
    await host.run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)], {
      netns: hypervisor,
    });
    await host.run(['ip', 'link', 'set', veth, 'master', 'br0', 'up'], { netns: hypervisor });
    await host.run(['ip', 'link', 'set', 'eth0', 'up'], { netns: `pid:${pid}` });
  } catch (err) {
    ct.kill('SIGKILL');
    throw err;
  }
  return { ct, pid };
}
