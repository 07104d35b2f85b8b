import { sh, verbatim, withRemark } from '../util/shell.js';
import type { Cause } from '../model/report.js';
import type { Check } from './types.js';
import { inNetns } from './util.js';

/**
 * OVN's logical pipeline drops the packet (ovn-trace): at an ACL stage
 * (ovn-acl-drop, with the ACL row that matches) or at port security
 * (ovn-port-security, with the port's port_security against the MAC/IP the
 * packet really has). The fix is in the northbound database: OVN rewrites
 * br-int's flows from it.
 */
export const ovnDrop: Check = {
  name: 'ovn-drop',
  raises: ['ovn-acl-drop', 'ovn-port-security'],
  run({ ovnTraces, ovnNb, path, correlation }) {
    const causes: Cause[] = [];
    const seen = new Set<string>();
    const netns = path.hops.find((h) => h.kind === 'openvswitch')?.netns ?? path.hops[0]!.netns;
    const bridge = path.hops.find((h) => h.kind === 'openvswitch')?.ifname ?? 'br-int';
    const nbDb = ovnNb?.database;
    const db = verbatim(nbDb && !/^unix:\/(var\/)?run\/ovn\/ovnnb_db\.sock$/.test(nbDb) ? sh` ${`--db=${nbDb}`}` : '');
    for (const t of (ovnTraces ?? []).filter((x) => x.verdict === 'drop' && x.dropStage)) {
      const st = t.dropStage!;
      const key = `${st.pipeline}/${st.table}/${st.match}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const confidence = correlation.loss?.direction === t.direction ? 0.98 : 0.88;
      const traceLines = [
        `ovn-trace ${t.datapath} '${t.expression}': dropped at ${st.pipeline} table ${st.table} ${st.stage}`,
        ...t.excerpt.slice(0, 12).map((l) => `trace: ${l}`),
      ];
      if (/acl/.test(st.stage)) {
        const acl =
          ovnNb?.acls.find(
            (a) =>
              a.logicalSwitch === t.datapath &&
              /drop|reject/.test(a.action) &&
              st.match.replace(/\s+/g, '') === a.match.replace(/\s+/g, ''),
          ) ?? ovnNb?.acls.find((a) => a.logicalSwitch === t.datapath && /drop|reject/.test(a.action));
        causes.push({
          id: 'ovn-acl-drop',
          confidence,
          device: { netns, ifname: bridge },
          summary: `an OVN ACL on ${t.datapath} drops the ${t.direction === 'to-target' ? 'traffic to' : 'replies from'} ${path.target.query}${acl ? ` (${acl.direction} priority ${acl.priority} '${acl.match}' ${acl.action})` : ''}`,
          evidence: [
            ...(acl
              ? [
                  `ovn-nbctl acl-list ${t.datapath}: ${acl.direction} ${acl.priority} (${acl.match}) ${acl.action}${acl.name ? ` name=${acl.name}` : ''}`,
                ]
              : []),
            ...traceLines,
          ],
          fix: acl
            ? [inNetns(netns, sh`ovn-nbctl${db} acl-del ${t.datapath} ${acl.direction} ${acl.priority} ${acl.match}`)]
            : [
                withRemark(
                  inNetns(netns, sh`ovn-nbctl${db} acl-list ${t.datapath}`),
                  'find the ACL of the stage above',
                ),
              ],
        });
      } else if (/port_sec/.test(st.stage)) {
        // Ingress port security checks what a port sends, egress what it is sent.
        const egress = st.pipeline === 'egress';
        const lport = egress ? (t.outport ?? t.inport) : t.inport;
        const port = ovnNb?.ports.find((p) => p.name === lport);
        const mac = t.expression.match(egress ? /eth\.dst == (\S+)/ : /eth\.src == (\S+)/)?.[1];
        const ip = t.expression.match(egress ? /ip4\.dst == (\S+)/ : /ip4\.src == (\S+)/)?.[1];
        causes.push({
          id: 'ovn-port-security',
          confidence,
          device: { netns, ifname: bridge },
          summary: `OVN port security of ${lport} drops what it ${egress ? 'is sent' : 'sends'}: it allows ${port?.portSecurity.join('; ') || '(none)'}, the packets ${egress ? 'go to' : 'come from'} ${mac} ${ip}`,
          evidence: [
            `ovn-nbctl lsp-get-port-security ${lport}: ${port?.portSecurity.join('; ') || '(none)'}`,
            `lsp addresses: ${port?.addresses.join('; ') || '(none)'}`,
            ...traceLines,
          ],
          fix: [
            withRemark(
              inNetns(netns, sh`ovn-nbctl${db} lsp-set-port-security ${lport} ${`${mac} ${ip}`}`),
              'or give the NIC the MAC OVN expects',
            ),
          ],
        });
      }
    }
    return causes;
  },
};
