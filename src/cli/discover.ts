import { discover } from '../collect/discover.js';
import { localHost } from '../host/local.js';
import { renderTopology } from '../report/topology-text.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

export const discoverCommand: Command = {
  name: 'discover',
  summary: summaryOf('discover'),
  usage: `usage: hopdump discover [--netns NS] [--json]

Builds one model of the host's network from iproute2's JSON output and /sys:
namespaces, interfaces (kind, MAC, MTU, state, carrier, IFF_PROMISC, master,
veth peer), bridges (ports, STP state, forward delay, FDB), routes,
neighbours and the forwarding sysctls.

  --netns NS   look from network namespace NS as if it were the host's root
               namespace (the lab's hypervisor is one)
  --json       print the whole model as JSON
`,
  async run(args, io) {
    const { values } = parseCommandArgs('discover', args, {
      netns: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const host = localHost();
    requireRoot(host, 'discover');
    const topology = await discover({ host, ...(values.netns ? { netns: values.netns } : {}) });
    io.stdout(values.json ? `${JSON.stringify(topology, null, 2)}\n` : renderTopology(topology));
    return 0;
  },
};
