import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { labDaemonDir } from './names.js';

/**
 * Plain QEMU guests (no libvirt): the lab starts qemu-system-x86_64 itself,
 * daemonized, as Proxmox VE's qemu-server does, with its pid file, console
 * log and the lab's channel socket in one directory per hypervisor namespace.
 * QEMU runs in that namespace, so `lab down` ends it with the namespace's
 * processes; the pid file is for a QEMU left behind (its namespace deleted
 * first).
 */
export function qemuDir(netns: string, base: string = labDaemonDir()): string {
  return `${base}/qemu/${netns}`;
}

export function makeQemuDir(netns: string, base: string): string {
  const dir = qemuDir(netns, base);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Ends a QEMU still alive by its pid file and removes the directories. Idempotent. */
export function removeQemuDirs(netnsNames: string[], base: string = labDaemonDir()): void {
  for (const ns of netnsNames) {
    const dir = qemuDir(ns, base);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
      try {
        const pid = Number(readFileSync(`${dir}/${f}`, 'utf8').trim());
        // A pid file can outlive its process and the pid be reused: only a QEMU is killed.
        if (
          Number.isInteger(pid) &&
          pid > 1 &&
          readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('qemu-system')
        )
          process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
