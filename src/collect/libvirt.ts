import { virshArgv } from '../host/virsh.js';
import { XMLParser } from 'fast-xml-parser';
import { environmentError } from '../errors.js';
import type { Host } from '../host/host.js';
import { CommandError } from '../host/local.js';
import {
  DomainInterfaceTypeSchema,
  DomainStateSchema,
  type Domain,
  type DomainInterface,
  type DomainState,
  type NovaMetadata,
} from '../model/libvirt.js';

/**
 * libvirt's domains from virsh: `virsh list --all --uuid` for which, then per
 * domain `virsh dumpxml` (parsed as XML, never matched as text) and `virsh
 * domstate`. Like virsh itself, the connection is LIBVIRT_DEFAULT_URI's (or
 * libvirt's default) unless a URI is given: `-c` is passed only then.
 */
export interface LibvirtOptions {
  /** e.g. qemu:///system, or the lab's qemu+unix:///system?socket=... */
  uri?: string;
  /** Run virsh inside this namespace (it reaches libvirtd through a unix socket, so rarely needed). */
  netns?: string;
  timeoutMs?: number;
}

const NOVA_NS_PREFIX = 'http://openstack.org/xmlns/libvirt/nova/';
const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';

/** virsh's argv for one command, with `-c URI` only when a URI was asked for. */
export async function listDomains(host: Host, options: LibvirtOptions = {}): Promise<Domain[]> {
  const run = (args: string[]) =>
    host.run(virshArgv(options.uri, args), {
      timeoutMs: options.timeoutMs ?? 15_000,
      ...(options.netns ? { netns: options.netns } : {}),
    });
  let uuids: string[];
  try {
    uuids = (await run(['list', '--all', '--uuid'])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  } catch (err) {
    const where = options.uri ?? process.env['LIBVIRT_DEFAULT_URI'] ?? "libvirt's default URI";
    const why = err instanceof CommandError ? err.oneLine() : String(err);
    throw environmentError(`could not list libvirt domains at ${where}`, `is libvirtd running? (${why})`, err);
  }
  const domains = await Promise.all(
    uuids.map(async (uuid) => {
      try {
        const [xml, state] = await Promise.all([
          run(['dumpxml', '--domain', uuid]),
          run(['domstate', '--domain', uuid]),
        ]);
        return parseDomainXml(xml.stdout, parseDomainState(state.stdout));
      } catch (err) {
        // Undefined between list and dumpxml (a transient domain that stopped): not an error.
        if (err instanceof CommandError && /failed to get domain|Domain not found/i.test(err.result?.stderr ?? ''))
          return undefined;
        throw err;
      }
    }),
  );
  return domains.filter((d): d is Domain => d !== undefined);
}

/** `virsh domstate` prints one state word (or two: "shut off"). */
export function parseDomainState(text: string): DomainState {
  const s = DomainStateSchema.safeParse(text.trim().split('\n')[0]?.trim());
  return s.success ? s.data : 'unknown';
}

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Values stay strings (a MAC like 52:54:00:00:00:11 must not become a number); numbers are parsed where meant.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

/** Parses one domain's XML (`virsh dumpxml`, live or inactive). */
export function parseDomainXml(xml: string, state: DomainState = 'unknown'): Domain {
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (err) {
    throw environmentError('could not parse the output of virsh dumpxml as XML', undefined, err);
  }
  const domain = node(doc['domain']);
  if (!domain) throw environmentError('virsh dumpxml returned no <domain> element');
  const name = text(domain['name']);
  const uuid = text(domain['uuid']);
  if (!name || !uuid) throw environmentError('virsh dumpxml: <domain> without <name> or <uuid>');
  const devices = node(domain['devices']) ?? {};
  const id = attr(domain, 'id');
  const virtType = attr(domain, 'type');
  const nova = novaMetadata(node(domain['metadata']), uuid);
  return {
    name,
    uuid,
    ...(id !== undefined && /^\d+$/.test(id) ? { id: Number(id) } : {}),
    ...(virtType ? { virtType } : {}),
    state,
    interfaces: list(devices['interface']).map(toInterface),
    guestAgentChannel: list(devices['channel']).some(
      (c) => attr(node(node(c)?.['target']), 'name') === GUEST_AGENT_CHANNEL,
    ),
    ...(nova ? { nova } : {}),
  };
}

function toInterface(raw: unknown): DomainInterface {
  const n = node(raw) ?? {};
  const rawType = attr(n, 'type') ?? 'other';
  const known = DomainInterfaceTypeSchema.safeParse(rawType);
  const source = node(n['source']);
  const virtualport = node(n['virtualport']);
  const vportParams = node(virtualport?.['parameters']);
  const tags = list(node(n['vlan'])?.['tag'])
    .map((t) => Number(attr(node(t), 'id')))
    .filter((t) => Number.isInteger(t));
  const mtu = Number(attr(node(n['mtu']), 'size'));
  const linkState = attr(node(n['link']), 'state');
  const put = (key: string, value: string | undefined) => (value !== undefined && value !== '' ? { [key]: value } : {});
  return {
    type: known.success && rawType !== 'other' ? known.data : 'other',
    ...(known.success ? {} : { rawType }),
    ...put('targetDev', attr(node(n['target']), 'dev')),
    ...put('mac', attr(node(n['mac']), 'address')?.toLowerCase()),
    ...put('model', attr(node(n['model']), 'type')),
    ...put('sourceBridge', attr(source, 'bridge')),
    ...put('sourceNetwork', attr(source, 'network')),
    ...put('sourceDev', attr(source, 'dev')),
    ...put('sourceMode', attr(source, 'mode')),
    ...put('sourcePath', attr(source, 'path')),
    ...(virtualport
      ? {
          virtualport: {
            type: attr(virtualport, 'type') ?? 'unknown',
            ...put('interfaceId', attr(vportParams, 'interfaceid')),
          },
        }
      : {}),
    ...(tags.length > 0 ? { vlanTags: tags } : {}),
    ...(Number.isInteger(mtu) && mtu > 0 ? { mtu } : {}),
    ...(linkState === 'up' || linkState === 'down' ? { linkState } : {}),
    ...put('alias', attr(node(n['alias']), 'name')),
  };
}

/**
 * Nova's element is found by its namespace URI, not by a prefix: the prefix is
 * whatever the writer chose (Nova writes `nova:`).
 */
function novaMetadata(metadata: XmlNode | undefined, domainUuid: string): NovaMetadata | undefined {
  if (!metadata) return undefined;
  for (const [key, value] of Object.entries(metadata)) {
    const [prefix, local] = key.includes(':') ? key.split(':', 2) : ['', key];
    if (local !== 'instance') continue;
    const instance = node(list(value)[0]);
    if (!instance) continue;
    const ns = attr(instance, prefix ? `xmlns:${prefix}` : 'xmlns');
    if (!ns?.startsWith(NOVA_NS_PREFIX)) continue;
    const el = (parent: XmlNode | undefined, name: string) =>
      parent ? parent[prefix ? `${prefix}:${name}` : name] : undefined;
    const owner = node(el(instance, 'owner'));
    const ports = list(el(node(el(instance, 'ports')), 'port')).map((p) => {
      const port = node(p) ?? {};
      return {
        uuid: attr(port, 'uuid') ?? '',
        ips: list(el(port, 'ip'))
          .map((ip) => attr(node(ip), 'address'))
          .filter((a): a is string => a !== undefined),
      };
    });
    const name = text(el(instance, 'name'));
    const flavor = attr(node(el(instance, 'flavor')), 'name');
    const project = text(el(owner, 'project'));
    const user = text(el(owner, 'user'));
    return {
      instanceUuid: domainUuid,
      ...(name ? { name } : {}),
      ...(flavor ? { flavor } : {}),
      ...(project ? { project } : {}),
      ...(user ? { user } : {}),
      ports: ports.filter((p) => p.uuid !== ''),
    };
  }
  return undefined;
}

function node(v: unknown): XmlNode | undefined {
  if (Array.isArray(v)) return node(v[0]);
  return v !== null && typeof v === 'object' ? (v as XmlNode) : undefined;
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function attr(n: XmlNode | undefined, name: string): string | undefined {
  const v = n?.[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** An element's text: the parser gives a bare string, or '#text' beside attributes. */
function text(v: unknown): string | undefined {
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'string') return first;
  const t = node(first)?.['#text'];
  return typeof t === 'string' ? t : undefined;
}
