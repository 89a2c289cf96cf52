import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servingOf } from '../../test/support/compiled-zones.js';
import { explainAnswer } from './explain-answer.js';

/** c1 → c2 → … → c{n} → www, a routed name. */
function chainZone(cnames: number): string {
  const chain = Array.from({ length: cnames }, (_, i) => `  c${i + 1}: { CNAME: ${i + 1 === cnames ? 'www' : `c${i + 2}`}.ch.test }`).join('\n');
  return `
zone: ch.test
soa: { mname: ns1.ch.test, rname: hostmaster.ch.test, serial: 1 }
records:
  "@": { NS: [ns1.ch.test] }
  ns1: { A: 192.0.2.53 }
  www: { pool: web }
${chain}
pools:
  web: { members: [192.0.2.10] }
`;
}

const NO_PROBES = { version: 0, targets: [], overrides: [] };

test('explain reports the pools of a routed name the server reaches through a CNAME chain, and none past where the server cuts it', () => {
  for (const [cnames, reached] of [[5, true], [6, false]] as const) {
    const serving = servingOf([chainZone(cnames)]);
    const report = explainAnswer({ name: 'c1.ch.test', from: '192.0.2.1' }, { serving, snapshot: NO_PROBES, geo: null });
    assert.equal(report.decision !== null, reached, `${cnames} CNAMEs: the server's decision`);
    assert.deepEqual(report.pools.map((p) => p.name), reached ? ['web'] : [], `${cnames} CNAMEs: the pools explain shows`);
  }
});
