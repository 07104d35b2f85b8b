import { discover } from '../collect/discover.js';
import { usageError } from '../errors.js';
import { localHost } from '../host/local.js';
import { resolveByArp } from '../capture/arp-resolve.js';
import { undecided } from '../path/silent.js';
import { findPath } from '../path/find.js';
import { renderPath } from '../report/path-text.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { requireRoot } from './preflight.js';

export const pathCommand: Command = {
  name: 'path',
  summary: summaryOf('path'),
  usage: `usage: hopdump path --target T [--netns NS] [--uplink IF] [--resolve-arp] [--json]

  --target T   an IPv4/IPv6 address, a MAC, an interface (IF or NETNS/IF), or netns:NAME
  --netns NS   look from network namespace NS as if it were the host's root namespace
  --uplink IF  where outside traffic enters, when hopdump cannot tell (default:
               the default route's device, or that bridge's physical port)
  --resolve-arp  a target address that no interface holds and no neighbour
               entry names (a silent guest) is found from the prefix that holds
               it; when several backends remain, send one ARP request (IPv6:
               neighbour solicitation) for it from that bridge and follow the
               port the answer is learned on (the only packet path sends)
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
      'resolve-arp': { type: 'boolean', default: false },
    });
    if (!values.target) throw usageError('path needs --target T', "see 'hopdump path --help'");
    const host = localHost();
    requireRoot(host, 'path');
    const topology = await discover({ host, ...(values.netns ? { netns: values.netns } : {}) });
    const base = values.uplink ? { uplink: values.uplink } : {};
    let path = findPath(topology, values.target, base);
    if (values['resolve-arp'] && undecided(path) && path.target.address) {
      const arp = await resolveByArp(host, topology, path, path.target.address);
      path = arp.backend ? findPath(topology, values.target, { ...base, backend: arp.backend }) : path;
      path.notes.push(arp.notice);
    }
    io.stdout(values.json ? `${JSON.stringify(path, null, 2)}\n` : renderPath(path, values.netns ?? 'the host'));
    return 0;
  },
};
