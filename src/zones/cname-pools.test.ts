/**
 * Pools of names (CNAME pools) and `degraded_ttl` as the zone reader takes them: the member
 * forms, and each mistake alone with its file:line:col, code and message. The answers they give
 * are src/routing/cname-pools.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile } from './index.js';

const HEAD = `zone: cdn.test
soa: { mname: ns1.cdn.test, rname: hostmaster.cdn.test }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
`;

function problems(text: string): string[] {
  const parsed = parseZoneFile('z.yaml', text);
  return parsed.ok ? [] : parsed.diagnostics.map(formatDiagnostic);
}

test('a member is a name as { cname, probe, weight, enabled } or as a plain string ending with a dot', () => {
  const parsed = parseZoneFile(
    'z.yaml',
    `${HEAD}  www: { failover: [cdn, own] }
  edge: { A: 192.0.2.80 }
pools:
  cdn:
    check: web
    members:
      - { cname: eu.cdn.example.net., probe: 127.0.0.1, weight: 3 }
      - { cname: edge, probe: "::1", enabled: false }
  own: { members: [192.0.2.10] }
  plain: { members: [us.cdn.example.net., "ap.cdn.example.net."] }
checks:
  web: { type: tcp, port: 80 }
`,
  );
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.diagnostics.map(formatDiagnostic).join('\n'));
  const pools = parsed.zone.pools;
  assert.equal(pools.get('cdn')?.holds, 'names');
  assert.deepEqual(pools.get('cdn')?.members, [
    { kind: 'name', target: 'eu.cdn.example.net', probe: '127.0.0.1', weight: 3, enabled: true },
    // A single label is a name in the zone, as for CNAME targets.
    { kind: 'name', target: 'edge.cdn.test', probe: '::1', weight: 1, enabled: false },
  ]);
  assert.equal(pools.get('own')?.holds, 'addresses');
  assert.deepEqual(pools.get('own')?.members, [{ kind: 'address', address: '192.0.2.10', family: 4, probe: null, weight: 1, enabled: true }]);
  assert.deepEqual(
    pools.get('plain')?.members.map((m) => (m.kind === 'name' ? m.target : m.address)),
    ['us.cdn.example.net', 'ap.cdn.example.net'],
  );
});

test('a pool of names: each mistake is reported at its own position', () => {
  const cases: [string, string, string][] = [
    [
      'names and addresses in one pool',
      `  www: { pool: cdn }
pools:
  cdn: { members: [eu.cdn.example.net., 192.0.2.10] }
`,
      'z.yaml:8:41: pool "cdn" holds names (eu.cdn.example.net., line 8), so 192.0.2.10 cannot join it: a pool holds addresses or names, not both [mixed-pool]',
    ],
    [
      'a name in a checked pool without a probe address',
      `  www: { pool: cdn }
pools:
  cdn: { check: web, members: [{ cname: eu.cdn.example.net. }] }
checks:
  web: { type: tcp, port: 80 }
`,
      'z.yaml:8:32: member eu.cdn.example.net. of pool "cdn" needs a probe address: the check "web" probes an address, and a name has none (write { cname: eu.cdn.example.net., probe: ADDRESS }) [missing-key]',
    ],
    [
      'both address and cname',
      `  www: { pool: cdn }
pools:
  cdn: { members: [{ cname: eu.cdn.example.net., address: 192.0.2.1 }] }
`,
      'z.yaml:8:20: a member has an address or a cname (a name answered as a CNAME), one of the two [bad-value]',
    ],
    [
      'max_answers on a pool of names',
      `  www: { pool: cdn }
pools:
  cdn: { max_answers: 2, members: [eu.cdn.example.net.] }
`,
      'z.yaml:8:23: max_answers applies to pools of addresses: pool "cdn" holds names and answers one CNAME [bad-value]',
    ],
    [
      'other data beside a name that can answer a CNAME',
      `  www: { geo: { country: { GB: [own] }, default: [cdn] }, TXT: hello }
pools:
  own: { members: [192.0.2.10] }
  cdn: { members: [eu.cdn.example.net.] }
`,
      'z.yaml:6:59: TXT beside geo at www.cdn.test: its pool "cdn" answers a CNAME, which cannot stand beside other data (RFC 1034 §3.6.2) [cname-with-other-data]',
    ],
    [
      'a duplicate name',
      `  www: { pool: cdn }
pools:
  cdn: { members: [eu.cdn.example.net., { cname: EU.cdn.example.net. }] }
`,
      'z.yaml:8:41: member eu.cdn.example.net. is listed twice in pool "cdn" [duplicate-record]',
    ],
    [
      'a member leading back to the name through an in-zone CNAME',
      `  www: { failover: [cdn] }
  edge: { CNAME: www }
pools:
  cdn: { members: [{ cname: edge }] }
`,
      'z.yaml:9:20: CNAME loop www.cdn.test → edge.cdn.test → www.cdn.test through pool "cdn": no answer can end it; point the member at a name that does not lead back to www.cdn.test [cname-loop]',
    ],
    [
      'degraded_ttl longer than ttl',
      `  www: { ttl: 30, degraded_ttl: 60, pool: own }
pools:
  own: { members: [192.0.2.10] }
`,
      "z.yaml:6:33: degraded_ttl (60) is longer than the name's ttl (30): resolvers would keep a degraded answer longer than a healthy one [bad-value]",
    ],
    [
      'degraded_ttl on a static name',
      `  www: { degraded_ttl: 5, A: 192.0.2.1 }
`,
      'z.yaml:6:10: degraded_ttl applies only to a name with geo, failover or pool [bad-value]',
    ],
  ];
  for (const [what, body, expected] of cases) assert.deepEqual(problems(HEAD + body), [expected], what);
});

test('degraded_ttl is read in seconds like ttl, and is null where the file leaves it out', () => {
  const parsed = parseZoneFile(
    'z.yaml',
    `${HEAD}  www: { ttl: 5m, degraded_ttl: 1m, pool: own }
  api: { pool: own }
pools:
  own: { members: [192.0.2.10] }
`,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(
    parsed.zone.names.filter((n) => n.routing).map((n) => [n.name, n.ttl, n.degradedTtl]),
    [
      ['www.cdn.test', 300, 60],
      ['api.cdn.test', 300, null],
    ],
  );
});
