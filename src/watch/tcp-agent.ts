// hopdump watch's TCP prober inside a network namespace (Node cannot enter one itself): one
// long-running process per source namespace, started with `ip netns exec NS node tcp-agent.js`
// (the single executable runs the same loop as `hopdump __tcp-agent`). Reads one JSON request per
// line on stdin, answers one JSON line per request on stdout; ends when stdin closes (hopdump
// gone). Never sends anything but the connections it is asked for.
import { runTcpAgent } from './tcp-probe.js';

runTcpAgent();
