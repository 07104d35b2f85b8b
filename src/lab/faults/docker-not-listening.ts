import { sleep } from '../../util/sleep.js';
import { docker } from '../docker.js';
import type { LabFault } from '../types.js';

export const dockerNotListening: LabFault = {
  name: 'docker-not-listening',
  cause: 'service-not-listening',
  topology: 'docker',
  description: "ct1's httpd died but the container is still up: tcp 9200 answers RST from 203.0.113.2",
  target: 'ct1',
  symptom: { kind: 'published-tcp-fails', target: 'ct1' },
  async apply(lab) {
    // busybox-static 1.35 has no pkill applet; killall inside the container reaches its PID namespace only.
    await docker(lab, 'hv', ['exec', 'ct1', 'killall', 'httpd']);
    for (let i = 0; i < 50; i++) {
      const r = await docker(lab, 'hv', ['exec', 'ct1', 'netstat', '-ltn'], { okCodes: 'any' });
      if (!r.stdout.includes(`:${lab.real('hv', '9200')} `)) return;
      await sleep(100);
    }
  },
};
