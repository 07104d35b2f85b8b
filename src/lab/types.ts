import type { Host, RunResult } from '../host/host.js';
import type { VariantExcludes, VariantPlan } from './variant.js';

/** A target that a lab topology offers to probe and diagnose. */
export interface LabTarget {
  /** Short name used by faults and tests: "vm1", "ct1". */
  name: string;
  /** Namespace role that holds the target's NIC. */
  role: string;
  address: string;
  address6?: string;
  mac: string;
  /** Host-side backend device of the target's NIC (in the hypervisor namespace). */
  backend: string;
  /** TCP port its service listens on. */
  port: number;
  /** A published port on the hypervisor's address that is DNAT-ed to the target. */
  published?: { address: string; port: number };
}

export interface LabTopology {
  name: string;
  description: string;
  /** Namespace roles, each becomes hd-<instance>-<role>. */
  roles: string[];
  /** The role that plays the hypervisor / Docker host (the namespace to discover from). */
  hypervisor: string;
  /** The role that plays the outside client that probes come from. */
  client: string;
  /** The hypervisor's uplink interface and address. */
  uplink: { ifname: string; address: string };
  targets: LabTarget[];
  /** What `lab up` suggests as --target (default: the first target's address). */
  suggestedTarget?: string;
  build(lab: LabBuilder): Promise<void>;
}

/**
 * How a fault shows from the client (or from the role `from`, for faults that
 * only a sender inside the host sees), checked by `lab` tests and `lab status`.
 */
export type LabSymptom = (
  | { kind: 'ping-fails'; target: string }
  | { kind: 'tcp-fails'; target: string }
  | { kind: 'published-tcp-fails'; target: string }
  | { kind: 'large-ping-fails'; target: string; size: number }
  | { kind: 'ping-loss'; target: string }
  | { kind: 'two-macs-answer'; target: string }
) & {
  from?: string;
  /** 6: checked over the target's IPv6 address (a fault that breaks IPv6 only). */
  family?: 6;
};

export interface LabFault {
  name: string;
  /** The cause id (docs/causes.md) hopdump should name for it. */
  cause: string;
  topology: string;
  /** One line for `lab list`. */
  description: string;
  /** The target whose path it breaks. */
  target: string;
  symptom: LabSymptom;
  /**
   * 6: the fault breaks IPv6 only (NDP), so every test and `bench-faults`
   * diagnose it over the target's address6 instead of its IPv4 address.
   */
  family?: 6;
  /** Variant dimension values this fault cannot be built on, each with the reason in a comment. */
  variantExcludes?: VariantExcludes;
  apply(lab: LabBuilder): Promise<void>;
}

/** What topologies and faults use to act on their namespaces. */
export interface LabBuilder {
  readonly instance: string;
  readonly host: Host;
  /** Where this lab's private daemons keep their directories and sockets (labDaemonDir(), or a variant's). */
  readonly daemonDir: string;
  /**
   * The variant being built (undefined: the fixed lab), for the few structural choices a topology
   * makes from it (which Docker network the container is on, the kind of guest); names, addresses
   * and ports are rewritten without it.
   */
  readonly variant?: VariantPlan;
  /** hd-<instance>-<role> */
  ns(role: string): string;
  /** A canonical name, address or MAC ("vnet0") as this lab has it in that role (a variant renames it). */
  real(role: string, canonical: string): string;
  run(
    role: string,
    argv: string[],
    options?: { okCodes?: number[] | 'any'; timeoutMs?: number; input?: string },
  ): Promise<RunResult>;
  /** Starts a long-running process in the role's namespace; `lab down` ends it. */
  daemon(role: string, argv: string[], options?: { netOnly?: boolean }): Promise<number>;
  /**
   * Sends a signal to the processes named `comm` inside the role's namespace
   * only (pkill would reach every namespace: they share one PID namespace).
   * Returns how many it signalled.
   */
  signal(role: string, comm: string, signal: NodeJS.Signals): Promise<number>;
  /** Waits until a TCP port listens inside the role's namespace. */
  waitListening(role: string, address: string, port: number): Promise<void>;
}
