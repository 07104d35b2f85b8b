/**
 * The host access layer: the only way any part of hopdump looks at or acts
 * on a host. Programs are run from argv arrays, never shell strings, on the
 * local host or inside a named network namespace. A later remote (ssh) host
 * implements the same interface.
 */
export interface RunOptions {
  /** Named network namespace (as in `ip netns list`) to run inside. */
  netns?: string;
  /** Kill the program after this long; default 15 s. */
  timeoutMs?: number;
  /** Bytes to write to the program's stdin. */
  input?: string | Buffer;
  /**
   * Exit statuses that are not failures (default: only 0). `'any'` returns
   * every status to the caller, which then reads `code`.
   */
  okCodes?: number[] | 'any';
}

export interface RunResult {
  argv: string[];
  netns: string | undefined;
  stdout: string;
  stderr: string;
  code: number;
}

export interface SpawnOptions {
  netns?: string;
  /** Hard upper bound on the process's life; it is killed after it. */
  maxLifetimeMs: number;
  /**
   * For a child that must undo something itself when hopdump goes away (e.g.
   * remove a tracefs instance): no parent-death kill; instead its stdin is a
   * pipe that reaches end-of-file when hopdump exits, however it exits.
   */
  cleansUpOnStdinEof?: boolean;
  /**
   * The program's stdout goes to this open file instead of a pipe (the caller
   * closes its own copy after spawn); `Spawned.stdout` is then an empty stream.
   */
  stdoutFd?: number;
}

/** A long-running program (e.g. tcpdump). Its cleanup is registered at start. */
export interface Spawned {
  readonly argv: string[];
  readonly pid: number | undefined;
  /** A pipe from the program; empty when SpawnOptions.stdoutFd was given. */
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** Closing it tells a cleansUpOnStdinEof child to finish. */
  readonly stdin: NodeJS.WritableStream | null;
  /** Resolves with the exit code (or null when ended by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the whole process group: SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  netns?: string;
  /**
   * Enter only the network namespace (`nsenter --net=/run/netns/NAME`), not
   * `ip netns exec`'s private mount namespace with its fresh /sys: daemons
   * that need the host's cgroup mounts (dockerd, libvirtd) start this way.
   */
  netOnly?: boolean;
}

export interface Host {
  /** For messages: "local host", later "ssh root@hv1". */
  readonly description: string;
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
  spawn(argv: string[], options: SpawnOptions): Spawned;
  /**
   * Starts a program that outlives hopdump (the lab's services) and returns its
   * pid. Whoever starts one must have a way to find and end it later: the lab
   * ends every process in its namespaces (`ip netns pids`).
   */
  daemon(argv: string[], options?: DaemonOptions): Promise<number>;
  /** Named namespaces (`ip netns list`), empty when there are none. */
  listNetns(): Promise<string[]>;
  /** Throws an environment error naming `ip netns list` when NS does not exist. */
  requireNetns(netns: string): Promise<void>;
  isRoot(): boolean;
  /** Whether a program can be run (found on PATH). */
  hasProgram(program: string): boolean;
}
