// Starts serve's API server in the namespace it is run in (ip netns exec MON node serve-main.js
// JSON): tests reach it with curl from that namespace, nothing on the host's own loopback.
import { readHopPackets } from '../../src/correlate/packets.js';
import { localHost } from '../../src/host/local.js';
import { RunsStore } from '../../src/report/runs.js';
import { startServe } from '../../src/serve/server.js';
import { parseListen } from '../../src/watch/http.js';

const o = JSON.parse(process.argv[2]!) as {
  listen: string;
  token?: string;
  runs: string;
  netns?: string;
  from?: string;
};
await startServe({
  host: localHost(),
  listen: parseListen(o.listen),
  token: o.token,
  store: new RunsStore({ root: o.runs }),
  reader: readHopPackets,
  ...(o.netns ? { netns: o.netns } : {}),
  ...(o.from ? { from: o.from } : {}),
});
process.stderr.write('serving\n');
