// Entry point of the single executable (`make exe`: scripts/build-exe.mjs bundles this file with
// everything it loads into one script and injects it into a Node binary). What bin/hopdump does
// for a checkout, plus the assets: the version, the worker threads' code and the serve page's
// scripts come from inside the executable (src/embedded.ts); `__tcp-agent` runs watch's TCP agent
// (the executable is its own agent inside a namespace).
import { getAsset } from 'node:sea';
import { setEmbedded, TCP_AGENT_ARG, workerSource } from '../embedded.js';
import { setWorkerSource } from '../pcap/workers.js';
import { runTcpAgent } from '../watch/tcp-probe.js';
import { main } from './main.js';

setEmbedded({ asset: (name) => getAsset(name, 'utf8') });
setWorkerSource(workerSource);
// The young generation's flag (bin/hopdump's --max-semi-space-size=2) is set by the bundle's first
// statement, before any module runs: scripts/build-exe.mjs.
// In a single executable application argv[1] repeats the executable's path, as a script's would.
const args = process.argv.slice(2);
if (args[0] === TCP_AGENT_ARG) runTcpAgent();
else void main(args);
