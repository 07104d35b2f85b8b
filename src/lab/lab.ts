import { sleep } from '../util/sleep.js';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { environmentError, usageError } from '../errors.js';
import type { Host } from '../host/host.js';
import { FAULTS } from './faults/index.js';
import { DEFAULT_INSTANCE, instanceOf, LAB_PREFIX, labDaemonDir, labNetns, validateInstance } from './names.js';
import { removeDockerDirs } from './docker.js';
import { removeLibvirtDirs } from './libvirt.js';
import { removeOvsDirs } from './ovs.js';
import { removeQemuDirs } from './qemu.js';
import { bridged } from './topologies/bridged.js';
import { chain } from './topologies/chain.js';
import { macvlan } from './topologies/macvlan.js';
import { dockerTopology } from './topologies/docker.js';
import { neutron } from './topologies/neutron.js';
import { ovn } from './topologies/ovn.js';
import { ovs } from './topologies/ovs.js';
import { routed } from './topologies/routed.js';
import { vm } from './topologies/vm.js';
import { vmMacvtap } from './topologies/vm-macvtap.js';
import type { LabBuilder, LabFault, LabTopology } from './types.js';
import { buildExtras, drawVariant, translate, variantTopology, type VariantPlan } from './variant.js';

export const TOPOLOGIES: LabTopology[] = [
  bridged,
  routed,
  ovs,
  neutron,
  vm,
  ovn,
  dockerTopology,
  macvlan,
  chain,
  vmMacvtap,
];
export { FAULTS };

/**
 * What `lab down` removes besides the namespaces and their processes, given
 * the namespaces being removed (after their processes were killed): private
 * daemon directories, mounts, cgroups. Each must be idempotent and must not
 * throw for a namespace it knows nothing about.
 */
const CLEANUPS: Array<(host: Host, netnsNames: string[], daemonDir: string) => Promise<void> | void> = [
  (_host, names, dir) => removeOvsDirs(names, dir),
  (_host, names, dir) => removeLibvirtDirs(names, dir),
  (_host, names, dir) => removeQemuDirs(names, dir),
  (host, names, dir) => removeDockerDirs(host, names, dir),
];

/** Lab state lives in /run (tmpfs): it disappears with the namespaces at reboot. */
export const LAB_STATE_DIR = '/run/hopdump/lab';

export interface LabState {
  instance: string;
  topology: string;
  fault: string | null;
  namespaces: string[];
  hypervisor: string;
  client: string;
  createdAt: string;
  /** Where its private daemons keep their directories (labDaemonDir() when it was built). */
  daemonDir?: string;
  /** The seed of a randomized variant (docs/lab.md); absent for the fixed lab. */
  variant?: number;
}

/** The variant a lab was built as, drawn again from its seed. */
export function variantOf(state: LabState): VariantPlan | undefined {
  if (state.variant === undefined) return undefined;
  const fault = state.fault ? FAULTS.find((f) => f.name === state.fault) : undefined;
  return drawVariant(state.topology, state.variant, fault?.variantExcludes);
}

/** The lab's topology in the terms it was built with (a variant's names, addresses and ports). */
export function labTopology(state: LabState): LabTopology {
  return variantTopology(findTopology(state.topology), variantOf(state));
}

export function findTopology(name: string): LabTopology {
  const t = TOPOLOGIES.find((x) => x.name === name);
  if (!t)
    throw usageError(`unknown lab topology '${name}'`, `choose one of: ${TOPOLOGIES.map((x) => x.name).join(', ')}`);
  return t;
}

export function findFault(name: string, topology?: string): LabFault {
  const f = FAULTS.find((x) => x.name === name);
  if (!f) throw usageError(`unknown lab fault '${name}'`, "see 'hopdump lab list'");
  if (topology && f.topology !== topology) {
    throw usageError(
      `fault '${name}' belongs to the ${f.topology} topology, not ${topology}`,
      `hopdump lab up ${f.topology} --fault ${name}`,
    );
  }
  return f;
}

function statePath(instance: string): string {
  return `${LAB_STATE_DIR}/${instance}.json`;
}

export function readState(instance: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(instance), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function listStates(): LabState[] {
  let names: string[];
  try {
    names = readdirSync(LAB_STATE_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => readState(n.slice(0, -5))).filter((s): s is LabState => s !== undefined);
}

export function builder(
  host: Host,
  instance: string,
  plan?: VariantPlan,
  daemonDir: string = labDaemonDir(),
): LabBuilder {
  const ns = (role: string) => labNetns(instance, role);
  // A variant rewrites the canonical names in everything the lab runs (src/lab/variant.ts).
  const tr = (role: string, text: string) => (plan ? translate(plan, role, text) : text);
  const argvOf = (role: string, argv: string[]) => argv.map((a) => tr(role, a));
  return {
    instance,
    host,
    daemonDir,
    ...(plan ? { variant: plan } : {}),
    ns,
    real: (role, canonical) => tr(role, canonical),
    run: (role, argv, options = {}) =>
      host.run(argvOf(role, argv), {
        netns: ns(role),
        ...options,
        ...(typeof options.input === 'string' ? { input: tr(role, options.input) } : {}),
      }),
    daemon: (role, argv, options = {}) => host.daemon(argvOf(role, argv), { netns: ns(role), ...options }),
    async signal(role, comm, signal) {
      let count = 0;
      for (const pid of await netnsPids(host, ns(role))) {
        if (processName(pid) !== comm) continue;
        try {
          process.kill(pid, signal);
          count++;
        } catch {
          /* exited meanwhile */
        }
      }
      return count;
    },
    async waitListening(role, canonicalAddress, canonicalPort) {
      const address = tr(role, canonicalAddress);
      const port = tr(role, String(canonicalPort));
      for (let i = 0; i < 50; i++) {
        const r = await host.run(['nc', '-z', '-w', '1', address, String(port)], { netns: ns(role), okCodes: 'any' });
        if (r.code === 0) return;
        await sleep(100);
      }
      throw environmentError(`service ${address}:${port} did not start in ${ns(role)}`);
    },
  };
}

export interface LabUpOptions {
  host: Host;
  topology: string;
  fault?: string;
  instance?: string;
  /** Build a randomized variant drawn from this seed (docs/lab.md). */
  variant?: number;
}

/**
 * Builds a topology (and applies a fault) in fresh hd-<instance>-* namespaces.
 * Anything half-built is removed again when a step fails.
 */
export async function labUp(options: LabUpOptions): Promise<LabState> {
  const { host } = options;
  const instance = validateInstance(options.instance ?? DEFAULT_INSTANCE);
  const topology = findTopology(options.topology);
  const fault = options.fault ? findFault(options.fault, topology.name) : undefined;
  const existing = (await host.listNetns()).filter((n) => instanceOf(n) === instance);
  if (readState(instance) || existing.length > 0) {
    throw environmentError(
      `lab '${instance}' is already up`,
      `hopdump lab down${instance === DEFAULT_INSTANCE ? '' : ` --name ${instance}`}`,
    );
  }
  const plan =
    options.variant === undefined ? undefined : drawVariant(topology.name, options.variant, fault?.variantExcludes);
  // A variant draws where the lab's daemons live too; otherwise HOPDUMP_LAB_DAEMON_DIR or the default.
  const daemonDir = plan?.daemonDir ?? labDaemonDir();
  const lab = builder(host, instance, plan, daemonDir);
  const state: LabState = {
    instance,
    topology: topology.name,
    fault: fault?.name ?? null,
    namespaces: topology.roles.map((r) => lab.ns(r)),
    hypervisor: lab.ns(topology.hypervisor),
    client: lab.ns(topology.client),
    createdAt: new Date().toISOString(),
    daemonDir,
    ...(plan ? { variant: plan.seed } : {}),
  };
  mkdirSync(LAB_STATE_DIR, { recursive: true, mode: 0o700 });
  // The state is written first so that `lab down` finds a half-built lab too.
  writeFileSync(statePath(instance), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  try {
    await topology.build(lab);
    if (plan) await buildExtras(lab, plan);
    if (fault) await fault.apply(lab);
  } catch (err) {
    await labDown({ host, instance });
    throw err;
  }
  return state;
}

export interface LabDownOptions {
  host: Host;
  /** One instance; undefined = every lab instance and every leftover hd-* namespace. */
  instance?: string;
}

/** Ends every process in the lab's namespaces, deletes the namespaces and the state. */
export async function labDown(options: LabDownOptions): Promise<string[]> {
  const { host } = options;
  const all = await host.listNetns();
  let targets: string[];
  let instances: string[];
  const daemonDirs = new Set([labDaemonDir()]);
  if (options.instance) {
    const instance = validateInstance(options.instance);
    instances = [instance];
    targets = all.filter((n) => instanceOf(n) === instance);
    const dir = readState(instance)?.daemonDir;
    if (dir) daemonDirs.add(dir);
  } else {
    const states = listStates();
    instances = states.map((s) => s.instance);
    for (const s of states) if (s.daemonDir) daemonDirs.add(s.daemonDir);
    targets = all.filter((n) => n.startsWith(LAB_PREFIX));
  }
  for (const netns of targets) {
    await killNetnsProcesses(host, netns);
  }
  for (const netns of targets) {
    await host.run(['ip', 'netns', 'del', netns], { okCodes: 'any' });
  }
  for (const dir of daemonDirs) {
    for (const cleanup of CLEANUPS) {
      try {
        await cleanup(host, targets, dir);
      } catch {
        /* best effort: the next cleanup still runs */
      }
    }
  }
  // A variant's own daemon directory goes when no lab uses it any more (labs of one seed share it).
  for (const dir of daemonDirs) {
    if (dir === labDaemonDir()) continue;
    for (const sub of ['ovs', 'docker', 'libvirt', 'qemu', '']) {
      try {
        rmdirSync(`${dir}/${sub}`);
      } catch {
        /* not empty, or not there */
      }
    }
  }
  for (const instance of instances) rmSync(statePath(instance), { force: true });
  return targets;
}

async function netnsPids(host: Host, netns: string): Promise<number[]> {
  const r = await host.run(['ip', 'netns', 'pids', netns], { okCodes: 'any' });
  return r.stdout
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function killNetnsProcesses(host: Host, netns: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = await netnsPids(host, netns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    await sleep(50);
  }
}
