// hopdump watch's TCP prober inside a network namespace (Node cannot enter one itself): one
// long-running process per source namespace, started with `ip netns exec NS node tcp-agent.js`.
// Reads one JSON request per line on stdin, answers one JSON line per request on stdout; ends
// when stdin closes (hopdump gone). Never sends anything but the connections it is asked for.
import { createInterface } from 'node:readline';
import { tcpConnect, type TcpRequest } from './tcp-probe.js';

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let req: TcpRequest;
  try {
    req = JSON.parse(line) as TcpRequest;
  } catch {
    return;
  }
  void tcpConnect(req).then((res) => process.stdout.write(`${JSON.stringify(res)}\n`));
});
rl.on('close', () => process.exit(0));
