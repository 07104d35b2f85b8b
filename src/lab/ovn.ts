import { sleep } from '../util/sleep.js';
import { existsSync } from 'node:fs';
import { environmentError } from '../errors.js';
import { labDaemonDir } from './names.js';
import { ovsDir, startOvs, vsctl } from './ovs.js';
import type { LabBuilder } from './types.js';

/**
 * OVN on the lab's private Open vSwitch: NB and SB ovsdb-servers, ovn-northd
 * and ovn-controller, all inside the hypervisor namespace, with their
 * databases and sockets in the same private directory as OVS (under
 * lab.daemonDir, which a variant moves; so `lab down` ends them with the
 * namespace and removes them with it). One chassis, so no tunnel is ever used
 * (geneve is not built into this kernel).
 */
export function ovnSockets(netns: string, base: string = labDaemonDir()): { nb: string; sb: string } {
  const dir = ovsDir(netns, base);
  return { nb: `${dir}/ovnnb_db.sock`, sb: `${dir}/ovnsb_db.sock` };
}

export async function startOvn(lab: LabBuilder, role: string): Promise<void> {
  const dir = await startOvs(lab, role);
  const { nb, sb } = ovnSockets(lab.ns(role), lab.daemonDir);
  const env = ['env', `OVS_RUNDIR=${dir}`, `OVN_RUNDIR=${dir}`, `OVN_DBDIR=${dir}`, `OVN_LOGDIR=${dir}`];
  for (const [db, schema, sock] of [
    ['ovnnb_db', 'ovn-nb', nb],
    ['ovnsb_db', 'ovn-sb', sb],
  ] as const) {
    await lab.host.run(['ovsdb-tool', 'create', `${dir}/${db}.db`, `/usr/share/ovn/${schema}.ovsschema`]);
    await lab.daemon(role, [
      ...env,
      'ovsdb-server',
      `${dir}/${db}.db`,
      `--remote=punix:${sock}`,
      `--pidfile=${dir}/${db}.pid`,
      `--unixctl=${dir}/${db}.ctl`,
      `--log-file=${dir}/${db}.log`,
    ]);
    await waitFor(sock);
  }
  await vsctl(lab, role, [
    '--',
    '--may-exist',
    'add-br',
    'br-int',
    '--',
    'set',
    'bridge',
    'br-int',
    'datapath_type=netdev',
    'fail_mode=secure',
    '--',
    'set',
    'open',
    '.',
    'external_ids:system-id=hv1',
    `external_ids:ovn-remote=unix:${sb}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=127.0.0.1',
  ]);
  await lab.daemon(role, [
    ...env,
    'ovn-northd',
    `--ovnnb-db=unix:${nb}`,
    `--ovnsb-db=unix:${sb}`,
    `--pidfile=${dir}/ovn-northd.pid`,
    `--unixctl=${dir}/ovn-northd.ctl`,
    `--log-file=${dir}/ovn-northd.log`,
  ]);
  // --monitor: ovn-controller 23.03 sometimes dies of SIGSEGV in its first
  // seconds (docs/ovn-notes.md); its monitor process starts it again.
  await lab.daemon(role, [
    ...env,
    'ovn-controller',
    `unix:${dir}/db.sock`,
    '--monitor',
    `--pidfile=${dir}/ovn-controller.pid`,
    `--log-file=${dir}/ovn-controller.log`,
  ]);
}

/** ovn-nbctl against the lab's northbound database. */
export function nbctl(lab: LabBuilder, role: string, args: string[], timeoutSeconds = 10): Promise<unknown> {
  return lab.run(role, [
    'ovn-nbctl',
    `--db=unix:${ovnSockets(lab.ns(role), lab.daemonDir).nb}`,
    `--timeout=${timeoutSeconds}`,
    ...args,
  ]);
}

/**
 * A northbound change, returning once ovn-controller has put it into br-int
 * (`--wait=hv`). The time-out is generous for a loaded test machine.
 */
export async function nbctlApplied(lab: LabBuilder, role: string, args: string[]): Promise<void> {
  await nbctl(lab, role, ['--wait=hv', ...args], 30);
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(path)) return;
    await sleep(50);
  }
  throw environmentError(`OVN did not start: ${path} never appeared`);
}
