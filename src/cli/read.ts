import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { environmentError, fileError, usageError } from '../errors.js';
import {
  CaptureStats,
  Decoded,
  DEFAULT_MIN_PARALLEL_BYTES,
  defaultThreads,
  fileStats,
  MAX_THREADS,
  decode,
  epochText,
  forEachPacket,
  PcapFormatError,
  prefetchIfCold,
  StatsWorkers,
  summarize,
  TcpRelative,
  timeText,
  toJson,
  type PcapReader,
  type ReadPlan,
} from '../pcap/index.js';
import { printable } from '../util/printable.js';
import { summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';

const FLUSH_AT = 1 << 18;

export const readCommand: Command = {
  name: 'read',
  summary: summaryOf('read'),
  usage: `usage: hopdump read FILE... [-e] [-S] [--json] [--stats [--threads N]] [-c COUNT]

One line per packet, as tcpdump -nn -r FILE prints it: local time of day,
then the decoded packet (Ethernet, 802.1Q/QinQ, ARP, IPv4/IPv6 with options and
extension headers, TCP with its options, UDP, ICMP/ICMPv6, VXLAN and Geneve
with the inner frame on the same line). TCP sequence and acknowledgement numbers
are relative to each connection's start, as tcpdump prints them without -S.
Reads classic pcap and pcapng (several sections and interfaces), link types
EN10MB, LINUX_SLL/SLL2 (tcpdump -i any), RAW/IPv4/IPv6 and NULL/LOOP.
FILE - reads standard input (tcpdump -w - | hopdump read -).

  -e           print the link layer too (MACs, VLAN tags, SLL direction)
  -S           absolute TCP sequence and acknowledgement numbers (tcpdump -S)
  --json       one JSON object per packet: decoded fields (absolute TCP
               numbers) and fingerprints
  --stats      decode and fingerprint every packet, print only the totals:
               packets, bytes, per-protocol counts, distinct fingerprints,
               first and last timestamp (with --json, as one object)
  --threads N  with --stats, read each file on N threads (1 to 4). Without it:
               files of 512 MiB or more that hold about 4 million packets or
               more on as many threads as there are cores (at most 4), smaller
               ones on one. The totals are the same.
  -c COUNT     stop after COUNT packets

A fingerprint is the packet's identity across hops (docs/pcap.md): the same
packet captured at the NIC, the bridge and the tap has the same one.

Exit codes: 0 read to the end, 2 usage, 3 a file missing, unreadable or malformed
(the packets before the bad byte are printed first; the error names its offset).
`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      'read',
      args,
      {
        e: { type: 'boolean', short: 'e', default: false },
        json: { type: 'boolean', default: false },
        stats: { type: 'boolean', default: false },
        c: { type: 'string', short: 'c' },
        threads: { type: 'string' },
        S: { type: 'boolean', short: 'S', default: false },
      },
      true,
    );
    if (positionals.length === 0)
      throw usageError('read needs capture files (or - for standard input)', "see 'hopdump read --help'");
    if (positionals.filter((p) => p === '-').length > 1) throw usageError('standard input (-) can be read only once');
    const limit = values.c === undefined ? Infinity : Number(values.c);
    if (!(limit > 0) || (limit !== Infinity && !Number.isInteger(limit)))
      throw usageError(`-c ${values.c} is not a positive count`);

    const threads = values.threads === undefined ? defaultThreads() : Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
      throw usageError(`--threads ${values.threads} is not a number of threads from 1 to ${MAX_THREADS}`);
    if (values.threads !== undefined && !values.stats) throw usageError('--threads goes with --stats');
    const wholeFiles = Boolean(values.stats) && limit === Infinity && !positionals.some((p) => p === '-');
    // The first file's worker threads start now, before the file is opened and probed
    // (pcap/workers.ts), and so does its read-ahead if it is not in the page cache (pcap/prefetch.ts).
    const firstSize = wholeFiles ? sizeOf(positionals[0]!) : 0;
    const early =
      wholeFiles && threads > 1 && (values.threads !== undefined || firstSize >= DEFAULT_MIN_PARALLEL_BYTES)
        ? StatsWorkers.start(threads)
        : undefined;
    const firstAhead = wholeFiles ? prefetchIfCold(positionals[0]!, firstSize) : undefined;
    let stats = values.stats ? new CaptureStats() : undefined;
    const perFile: Array<{ file: string; stats: CaptureStats }> = [];
    const d = new Decoded();
    // TCP seq/ack relative to each connection's start, as tcpdump without -S (text lines only).
    const rel = values.S || values.json || values.stats ? undefined : new TcpRelative();
    let out: string[] = [];
    let pending = 0;
    let count = 0;
    const flush = () => {
      if (out.length) io.stdout(out.join(''));
      out = [];
      pending = 0;
    };
    const several = positionals.length > 1;
    let multiIface = false;
    const onInput = (r: PcapReader, i: number) => {
      if (stats && several) perFile.push({ file: positionals[i]!, stats: new CaptureStats() });
      if (!stats && !values.json && several) {
        out.push(`${i > 0 ? '\n' : ''}==> ${positionals[i]} <==\n`);
      }
      multiIface = false;
      rel?.clear();
      r.onInterface = () => {
        multiIface = r.interfaces.length > 1;
      };
    };
    const onPacket = (r: PcapReader, i: number): boolean => {
      count++;
      if (stats) {
        stats.add(r);
        if (several) perFile[perFile.length - 1]!.stats.add(r);
        return count < limit;
      }
      decode(r.buf, r.dataOff, r.caplen, r.linkType, d);
      let line: string;
      if (values.json) {
        const iface = r.interfaces[r.ifId];
        const obj = {
          n: count,
          ...(several ? { file: positionals[i] } : {}),
          ts: epochText(r.tsSec, r.tsNsec),
          ...(r.format === 'pcapng' ? { interface: iface?.name ?? r.ifId } : {}),
          ...toJson(d, r.origLen),
          summary: summarize(d, r.origLen, values.e),
          ...(r.blockType === 6 && r.optEnd > r.optOff ? commentsOf(r) : {}),
        };
        line = `${JSON.stringify(obj)}\n`;
      } else {
        const iface = multiIface ? `${printable(r.interfaces[r.ifId]?.name ?? `if${r.ifId}`)} ` : '';
        line = `${timeText(r.tsSec, r.tsNsec)} ${iface}${summarize(d, r.origLen, values.e, false, rel)}\n`;
      }
      out.push(line);
      pending += line.length;
      if (pending >= FLUSH_AT) flush();
      return count < limit;
    };
    const pause = () => io.drained?.() ?? null;
    try {
      if (wholeFiles) {
        // Whole files: each one on several threads where it is large (pcap/parallel.ts).
        for (const [i, file] of positionals.entries()) {
          const s = await fileStats(file, {
            threads,
            ...(i === 0 && early ? { workers: early } : {}),
            // The first file's read-ahead, started above (or none: it was in the page cache).
            ...(i === 0 ? { prefetch: firstAhead ?? false } : {}),
            // --threads given: the user's choice, whatever the file's size.
            ...(values.threads !== undefined ? { minParallelBytes: 0, minParallelPackets: 0 } : {}),
            ...(io.debug
              ? {
                  onPlan: (p: ReadPlan) =>
                    io.stderr(
                      `hopdump read: ${file}: ${p.chunks} chunk${p.chunks === 1 ? '' : 's'}, ${p.byWorkers} read by worker threads${p.sequential ? '; read again on one thread (the chunks did not chain)' : ''}${p.readAhead ? '; not in the page cache: read ahead of the parser' : ''}\n`,
                    ),
                }
              : {}),
          });
          if (several) {
            perFile.push({ file, stats: s });
            stats!.merge(s.snapshot());
          } else stats = s;
        }
      } else await forEachPacket(positionals, onPacket, { onInput, pause, onChunk: flush, syncStdin: Boolean(stats) });
    } catch (err) {
      flush();
      if (err instanceof PcapFormatError) throw environmentError(err.message);
      throw fileError(err);
    }
    flush();
    if (stats) {
      if (values.json) {
        const j = {
          ...stats.toJSON(),
          ...(several ? { files: perFile.map((f) => ({ file: f.file, ...f.stats.toJSON() })) } : {}),
        };
        io.stdout(`${JSON.stringify(j, null, 2)}\n`);
      } else {
        const lines = several
          ? perFile.map((f) => `${basename(f.file)}: ${f.stats.packets} packets, ${f.stats.bytes} bytes\n`).join('')
          : '';
        io.stdout(lines + stats.text());
      }
    }
    return 0;
  },
};

/** A regular file's size (0 for anything else, or when it cannot be told: the read will say why). */
function sizeOf(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

function commentsOf(r: PcapReader): { comments?: string[] } {
  const c = r.comments();
  return c.length ? { comments: c } : {};
}
