import { sleep } from '../util/sleep.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { environmentError } from '../errors.js';
import { labDaemonDir } from './names.js';
import type { LabBuilder } from './types.js';

/**
 * A private Open vSwitch for one lab namespace: its own database, sockets and
 * logs in one directory, both daemons running inside the namespace (so `lab
 * down`, which ends every process of the namespace, ends them too). The
 * kernel here has no OVS datapath: bridges use the userspace `netdev` one.
 */
export function ovsDir(netns: string, base: string = labDaemonDir()): string {
  return `${base}/ovs/${netns}`;
}

export async function startOvs(lab: LabBuilder, role: string): Promise<string> {
  const dir = ovsDir(lab.ns(role), lab.daemonDir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await lab.host.run(['ovsdb-tool', 'create', `${dir}/conf.db`, '/usr/share/openvswitch/vswitch.ovsschema']);
  // The daemons put their sockets (BRIDGE.mgmt among them) in OVS_RUNDIR: the lab's own directory.
  const env = ['env', `OVS_RUNDIR=${dir}`, `OVS_DBDIR=${dir}`, `OVS_LOGDIR=${dir}`];
  await lab.daemon(role, [
    ...env,
    'ovsdb-server',
    `${dir}/conf.db`,
    `--remote=punix:${dir}/db.sock`,
    `--pidfile=${dir}/ovsdb-server.pid`,
    `--unixctl=${dir}/ovsdb-server.ctl`,
    `--log-file=${dir}/ovsdb-server.log`,
  ]);
  await waitFor(`${dir}/db.sock`);
  await lab.run(role, ['ovs-vsctl', `--db=unix:${dir}/db.sock`, '--no-wait', 'init']);
  await lab.daemon(role, [
    ...env,
    'ovs-vswitchd',
    `unix:${dir}/db.sock`,
    `--pidfile=${dir}/ovs-vswitchd.pid`,
    `--unixctl=${dir}/ovs-vswitchd.ctl`,
    `--log-file=${dir}/ovs-vswitchd.log`,
  ]);
  await waitFor(`${dir}/ovs-vswitchd.ctl`);
  return dir;
}

/** ovs-vsctl against the lab namespace's own database. */
export function vsctl(lab: LabBuilder, role: string, args: string[]): Promise<unknown> {
  return lab.run(role, [
    'ovs-vsctl',
    `--db=unix:${ovsDir(lab.ns(role), lab.daemonDir)}/db.sock`,
    '--timeout=10',
    ...args,
  ]);
}

/** ovs-ofctl against a bridge of the lab's OVS, through its management socket in the lab's directory. */
export function ofctl(lab: LabBuilder, role: string, args: string[]): Promise<unknown> {
  const [verb, bridge, ...rest] = args;
  return lab.run(role, ['ovs-ofctl', verb!, `unix:${ovsDir(lab.ns(role), lab.daemonDir)}/${bridge}.mgmt`, ...rest]);
}

/** ovs-appctl against the lab's ovs-vswitchd. */
export function appctl(lab: LabBuilder, role: string, args: string[]): Promise<unknown> {
  return lab.run(role, ['ovs-appctl', `--target=${ovsDir(lab.ns(role), lab.daemonDir)}/ovs-vswitchd.ctl`, ...args]);
}

export function removeOvsDirs(netnsNames: string[], base: string = labDaemonDir()): void {
  for (const ns of netnsNames) rmSync(ovsDir(ns, base), { recursive: true, force: true });
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(path)) return;
    await sleep(50);
  }
  throw environmentError(`Open vSwitch did not start: ${path} never appeared`);
}
