import type { Command } from './command.js';

/**
 * Every command, in the order `hopdump --help` lists them, with its one-line summary and how
 * to load it. Only the command that runs is loaded: `read` needs the pcap engine alone, `analyze`
 * no Docker or libvirt client, and `--version` nothing (start-up time and resident memory).
 */
export const COMMANDS = [
  {
    name: 'diagnose',
    summary: 'capture on every hop at once, probe, and say where and why packets die',
    load: async () => (await import('./diagnose.js')).diagnoseCommand,
  },
  {
    name: 'analyze',
    summary: 'correlate pcap/pcapng files captured by hand at several hops and say where packets stop',
    load: async () => (await import('./analyze.js')).analyzeCommand,
  },
  {
    name: 'lab',
    summary: 'build, break and remove the built-in fault lab (network namespaces hd-*)',
    load: async () => (await import('./lab.js')).labCommand,
  },
  {
    name: 'discover',
    summary: 'show the host network: namespaces, interfaces, bridges, peers, routes, sysctls',
    load: async () => (await import('./discover.js')).discoverCommand,
  },
  {
    name: 'path',
    summary: 'the ordered hops from the uplink to a target, and where a capture sees its traffic',
    load: async () => (await import('./path.js')).pathCommand,
  },
  {
    name: 'watch',
    summary: 'probe targets continuously, export Prometheus metrics, diagnose a target when it goes down',
    load: async () => (await import('./watch.js')).watchCommand,
  },
  {
    name: 'serve',
    summary: "a web view of the host's datapath where a click on a guest diagnoses it",
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'runs',
    summary: 'list the diagnose runs kept in the runs store (reports and captures)',
    load: async () => (await import('./runs.js')).runsCommand,
  },
  {
    name: 'read',
    summary: 'print or count the packets of pcap/pcapng files, like tcpdump -nn -r (the pcap engine)',
    load: async () => (await import('./read.js')).readCommand,
  },
  {
    name: 'completion',
    summary: 'print a bash, zsh or fish completion script (commands, options, live targets)',
    load: async () => (await import('./completion.js')).completionCommand,
  },
  {
    // Hidden: what the completion scripts run for live candidates (targets, namespaces); not in --help.
    name: '__complete',
    summary: 'candidates for a completion script, one per line',
    hidden: true,
    load: async () => (await import('./complete.js')).completeCommand,
  },
] as const satisfies ReadonlyArray<{ name: string; summary: string; hidden?: true; load: () => Promise<Command> }>;

export type CommandName = (typeof COMMANDS)[number]['name'];

/** A command's summary, from the one list (the command modules use it: one text). */
export function summaryOf(name: CommandName): string {
  return COMMANDS.find((c) => c.name === name)!.summary;
}

/** A command that --help does not list and that has no man page (the shells' __complete). */
export function isHidden(entry: (typeof COMMANDS)[number]): boolean {
  return 'hidden' in entry && entry.hidden;
}

/** Every command that --help lists, loaded (tests, completion, man pages), in its order. */
export async function commands(): Promise<Command[]> {
  return Promise.all(COMMANDS.filter((c) => !isHidden(c)).map((c) => c.load()));
}
