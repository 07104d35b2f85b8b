import { discover } from '../collect/discover.js';
import { usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { findPath } from '../path/find.js';
import { renderPath } from '../report/path-text.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

export const pathCommand: Command = {
  name: 'path',
  summary: 'the ordered hops from the uplink to a target, and where a capture sees its traffic',
  usage: `usage: hopdump path --target T [--netns NS] [--uplink IF] [--json]

  --target T   an IPv4/IPv6 address, a MAC, an interface (IF or NETNS/IF), or netns:NAME
  --netns NS   look from network namespace NS as if it were the host's root namespace
  --uplink IF  where outside traffic enters, when hopdump cannot tell (default:
               the default route's device, or that bridge's physical port)
  --json       print the path as JSON

Each hop has its namespace, interface, role (uplink, bridge, bridge-port,
backend, guest-nic, router, nat) and whether a capture there sees the target's
transit traffic (frames bridged between two ports are not seen on the bridge).
`,
  async run(args, io) {
    const { values } = parseCommandArgs('path', args, {
      target: { type: 'string' },
      netns: { type: 'string' },
      uplink: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (!values.target) throw usageError('path needs --target T', "see 'hopdump path --help'");
    const host = localHost();
    requireRoot(host, 'path');
    const topology = await discover({ host, ...(values.netns ? { netns: values.netns } : {}) });
    const path = findPath(topology, values.target, values.uplink ? { uplink: values.uplink } : {});
    io.stdout(values.json ? `${JSON.stringify(path, null, 2)}\n` : renderPath(path, values.netns ?? 'the host'));
    return 0;
  },
};
