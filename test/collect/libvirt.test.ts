import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { guestExec, guestPing } from '../../src/host/guest-agent.js';
import { parseDomainState, parseDomainXml } from '../../src/collect/libvirt.js';
import { virshArgv } from '../../src/host/virsh.js';
import type { Host, RunOptions, RunResult } from '../../src/host/host.js';
import { CommandError } from '../../src/host/local.js';
import { DomainSchema } from '../../src/model/libvirt.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/libvirt/${name}`, import.meta.url), 'utf8');

describe('libvirt dumpxml parser', () => {
  test('a Nova instance: metadata found by namespace, every interface type', () => {
    const d = parseDomainXml(fixture('openstack-nova-dumpxml.recorded.xml'), 'shut off');
    DomainSchema.parse(d);
    assert.deepEqual(
      [d.name, d.uuid, d.virtType, d.state, d.id, d.guestAgentChannel],
      ['instance-0000002a', '5f1c3a9e-7b2d-4c1e-9a55-0d3e8f6b2c71', 'kvm', 'shut off', undefined, true],
    );
    assert.deepEqual(d.nova, {
      instanceUuid: '5f1c3a9e-7b2d-4c1e-9a55-0d3e8f6b2c71',
      name: 'web-01',
      flavor: 'm1.small',
      project: 'demo-project',
      user: 'demo',
      ports: [
        { uuid: '8a4b2c1d-3e5f-4a6b-9c7d-1e2f3a4b5c6d', ips: ['198.51.100.21', '2001:db8:100::21'] },
        { uuid: 'c0ffee00-1111-4222-8333-444455556666', ips: ['203.0.113.21'] },
      ],
    });
    assert.deepEqual(d.interfaces, [
      {
        type: 'bridge',
        targetDev: 'tap8a4b2c1d-3e',
        mac: 'fa:16:3e:4b:2c:1d',
        model: 'virtio',
        sourceBridge: 'br-int',
        virtualport: { type: 'openvswitch', interfaceId: '8a4b2c1d-3e5f-4a6b-9c7d-1e2f3a4b5c6d' },
        mtu: 1450,
      },
      {
        type: 'bridge',
        targetDev: 'tapc0ffee00-11',
        mac: 'fa:16:3e:00:66:66',
        model: 'virtio',
        sourceBridge: 'qbrc0ffee00-11',
        mtu: 1450,
      },
      {
        type: 'vhostuser',
        targetDev: 'vhu7e3d2c1b-a0',
        mac: 'fa:16:3e:77:88:99',
        model: 'virtio',
        sourceMode: 'server',
        sourcePath: '/var/run/openvswitch/vhu7e3d2c1b-a0',
      },
      { type: 'direct', mac: 'fa:16:3e:aa:bb:cc', model: 'virtio', sourceDev: 'ens1f0', sourceMode: 'passthrough' },
      { type: 'network', mac: '52:54:00:12:34:56', model: 'e1000', sourceNetwork: 'default', linkState: 'down' },
      { type: 'ethernet', targetDev: 'tap-manual0', mac: '52:54:00:65:43:21', model: 'rtl8139', vlanTags: [42] },
    ]);
  });

  test("the lab's running vm1: live XML with id, tap and alias", () => {
    const d = parseDomainXml(fixture('lab-vm1-live-dumpxml.recorded.xml'), 'running');
    assert.deepEqual([d.name, d.id, d.virtType, d.nova?.name], ['vm1', 1, 'qemu', 'vm1']);
    assert.deepEqual(d.interfaces, [
      {
        type: 'bridge',
        targetDev: 'vnet0',
        mac: '52:54:00:00:00:11',
        model: 'virtio',
        sourceBridge: 'br0',
        alias: 'net0',
      },
    ]);
  });

  test('a foreign <instance> element in metadata is not taken for Nova; unknown interface types are kept', () => {
    const d = parseDomainXml(`<domain type='kvm'><name>a</name><uuid>u</uuid>
      <metadata><x:instance xmlns:x="http://example.org/other"><x:name>no</x:name></x:instance></metadata>
      <devices><interface type='futuristic'><mac address='52:54:00:AA:BB:CC'/></interface></devices></domain>`);
    assert.equal(d.nova, undefined);
    assert.deepEqual(d.interfaces, [{ type: 'other', rawType: 'futuristic', mac: '52:54:00:aa:bb:cc' }]);
    assert.equal(d.guestAgentChannel, false);
  });

  test('malformed or empty answers are clear errors', () => {
    assert.throws(() => parseDomainXml('<network><name>x</name></network>'), /no <domain> element/);
    assert.throws(() => parseDomainXml("<domain type='kvm'><uuid>u</uuid></domain>"), /without <name>/);
  });

  test('domstate words, and -c only for an explicit URI', () => {
    assert.equal(parseDomainState('shut off\n\n'), 'shut off');
    assert.equal(parseDomainState('running\n'), 'running');
    assert.equal(parseDomainState('garbage'), 'unknown');
    assert.deepEqual(virshArgv(undefined, ['list']), ['virsh', '-q', 'list']);
    assert.deepEqual(virshArgv('qemu:///system', ['list']), ['virsh', '-q', '-c', 'qemu:///system', 'list']);
  });
});

/** A host that answers virsh qemu-agent-command from a script of replies. */
function agentHost(
  reply: (cmd: { execute: string; arguments?: Record<string, unknown> }) => RunResult | Error,
): Host & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    description: 'fake',
    run(argv: string[], _options?: RunOptions) {
      calls.push(argv);
      const cmd = JSON.parse(argv[argv.indexOf('--cmd') + 1]!) as {
        execute: string;
        arguments?: Record<string, unknown>;
      };
      const r = reply(cmd);
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    },
    spawn: () => {
      throw new Error('no');
    },
    daemon: () => Promise.reject(new Error('no')),
    listNetns: () => Promise.resolve([]),
    requireNetns: () => Promise.resolve(),
    isRoot: () => true,
    hasProgram: () => true,
  };
}

const ok = (value: unknown): RunResult => ({
  argv: [],
  netns: undefined,
  stdout: JSON.stringify({ return: value }),
  stderr: '',
  code: 0,
});

describe('guest agent calls', () => {
  test('guest-exec: argv as path + arg, stdin as input-data, base64 output decoded after polling', async () => {
    let polls = 0;
    const host = agentHost((cmd) => {
      if (cmd.execute === 'guest-exec') {
        assert.deepEqual(cmd.arguments, {
          path: 'nft',
          arg: ['-f', '-'],
          'capture-output': true,
          'input-data': Buffer.from('x; y').toString('base64'),
        });
        return ok({ pid: 42 });
      }
      polls++;
      if (polls < 3) return ok({ exited: false });
      return ok({
        exited: true,
        exitcode: 1,
        'out-data': Buffer.from('out').toString('base64'),
        'err-data': Buffer.from('err').toString('base64'),
      });
    });
    const r = await guestExec(host, 'qemu:///system', 'vm1', ['nft', '-f', '-'], { input: 'x; y' });
    assert.deepEqual([r.code, r.stdout.toString(), r.stderr.toString(), r.truncated], [1, 'out', 'err', false]);
    assert.equal(polls, 3);
    assert.deepEqual(host.calls[0]!.slice(0, 6), [
      'virsh',
      '-q',
      '-c',
      'qemu:///system',
      'qemu-agent-command',
      '--domain',
    ]);
  });

  test('an agent that does not answer is named as such', async () => {
    const result: RunResult = {
      argv: [],
      netns: undefined,
      stdout: '',
      stderr: 'error: Guest agent is not responding: QEMU guest agent is not connected\n',
      code: 1,
    };
    const host = agentHost(() => new CommandError('virsh failed', undefined, result));
    await assert.rejects(guestPing(host, undefined, 'vm1'), /guest agent not responding on vm1/);
    assert.equal(host.calls[0]!.includes('-c'), false, 'no URI given: virsh uses LIBVIRT_DEFAULT_URI itself');
  });
});
