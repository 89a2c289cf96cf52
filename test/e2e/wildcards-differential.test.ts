/**
 * Wildcards (RFC 1034 §4.3.3, RFC 4592) against Knot: one static zone written twice, as Meridian
 * YAML and as an RFC 1035 master file, served by both; every type asked at, above, below and beside
 * each wildcard, at empty non-terminals that block them, under a zone cut, through CNAMEs into and out
 * of wildcards, with the literal `*` label. Every header flag, rcode and all three sections must agree.
 * Then a few generated zones with wildcards added (`npm run difftest -- --wildcards` runs many).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GeneratedZone, Question } from '../difftest/generate-zone.js';
import { classify, compareZones, presentDifference, runDifftest, type DifftestReport } from '../difftest/run-difftest.js';

const ORIGIN = 'wild.difftest';

/** owner (relative, "@" the apex) → records in master-file form; the YAML is written from the same table below. */
const RECORDS: [string, string, string][] = [
  ['@', 'NS', `ns1.${ORIGIN}.`],
  ['@', 'NS', 'ns.example.net.'],
  ['ns1', 'A', '192.0.2.53'],
  ['mail', 'A', '192.0.2.25'],
  // The apex wildcard: any missing name whose closest encloser is the apex.
  ['*', 'TXT', '"apex wildcard"'],
  ['*', 'MX', `10 mail.${ORIGIN}.`],
  // A wildcard beside an existing name and an empty non-terminal.
  ['*.w', 'A', '192.0.2.1'],
  ['*.w', 'A', '192.0.2.2'],
  ['*.w', 'AAAA', '2001:db8::1'],
  ['*.w', 'CAA', '0 issue "letsencrypt.org"'],
  ['host.w', 'A', '192.0.2.10'],
  ['a.ent.w', 'A', '192.0.2.11'],
  // A wildcard whose parent is itself an empty non-terminal.
  ['*.deep.ent2', 'A', '192.0.2.12'],
  // A wildcard CNAME chased in the zone, one leaving it, one to a name a wildcard answers, one to nothing.
  ['*.alias', 'CNAME', `host.w.${ORIGIN}.`],
  ['*.out', 'CNAME', 'www.example.org.'],
  ['*.hop', 'CNAME', `synth.w.${ORIGIN}.`],
  ['*.dangling', 'CNAME', `gone.ent.w.${ORIGIN}.`],
  ['*.tocut', 'CNAME', `x.sub.${ORIGIN}.`],
  // A static CNAME into a wildcard.
  ['cn', 'CNAME', `q.w.${ORIGIN}.`],
  // SRV from a wildcard below an underscore label, with an in-zone target.
  ['*._tcp.srv', 'SRV', `0 5 443 host.w.${ORIGIN}.`],
  // A delegation: names below it are referred, never answered from the apex wildcard.
  ['sub', 'NS', `ns.sub.${ORIGIN}.`],
  ['ns.sub', 'A', '192.0.2.54'],
];

function yamlValue(type: string, data: string): unknown {
  const fields = data.split(' ');
  switch (type) {
    case 'TXT':
      return JSON.parse(data);
    case 'MX':
      return { preference: Number(fields[0]), exchange: fields[1] };
    case 'SRV':
      return { priority: Number(fields[0]), weight: Number(fields[1]), port: Number(fields[2]), target: fields[3] };
    case 'CAA':
      return { flags: Number(fields[0]), tag: fields[1], value: JSON.parse(fields.slice(2).join(' ')) };
    default:
      return data;
  }
}

function zoneFiles(): { yaml: string; masterFile: string } {
  const byOwner = new Map<string, Map<string, unknown[]>>();
  for (const [owner, type, data] of RECORDS) {
    const types = byOwner.get(owner) ?? new Map<string, unknown[]>();
    types.set(type, [...(types.get(type) ?? []), yamlValue(type, data)]);
    byOwner.set(owner, types);
  }
  const yaml = [
    `zone: ${ORIGIN}`,
    'ttl: 300',
    `soa: { mname: ns1.${ORIGIN}., rname: hostmaster.${ORIGIN}., serial: 42, refresh: 7200, retry: 900, expire: 1209600, minimum: 60, ttl: 300 }`,
    'records:',
    ...[...byOwner].map(([owner, types]) => `  ${JSON.stringify(owner)}: { ${[...types].map(([type, values]) => `${type}: ${JSON.stringify(type === 'CNAME' ? values[0] : values)}`).join(', ')} }`),
  ].join('\n');
  const masterFile = [
    `$ORIGIN ${ORIGIN}.`,
    `$TTL 300`,
    `@ IN SOA ns1.${ORIGIN}. hostmaster.${ORIGIN}. 42 7200 900 1209600 60`,
    ...RECORDS.map(([owner, type, data]) => `${owner} IN ${type} ${data}`),
  ].join('\n');
  return { yaml: `${yaml}\n`, masterFile: `${masterFile}\n` };
}

const TYPES = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'CNAME', 'NS', 'SOA', 'DS', 'CAA', 'PTR', 'ANY'];
/** Relative names to ask, by what they are. */
const NAMES: Record<string, string[]> = {
  'wildcard owner itself (literal *)': ['*', '*.w', '*.deep.ent2', '*.alias', '*._tcp.srv'],
  'below a wildcard\'s parent': ['x.w', 'y.x.w', 'nothing', 'a.b.nothing', 'x.deep.ent2', 'x._tcp.srv', 'MiXeD.w'],
  'a wildcard\'s parent (not matched)': ['w', 'deep.ent2', 'alias', '_tcp.srv'],
  'existing name beside a wildcard': ['host.w', 'a.ent.w', 'mail', 'ns1'],
  'empty non-terminal that blocks a wildcard': ['ent.w', 'b.ent.w', 'ent2', 'x.ent2', 'srv', 'x.srv'],
  'below an existing name': ['x.host.w', 'x.a.ent.w', 'x.mail'],
  'below a wildcard (asterisk as an inner label)': ['a.*.w', 'a.*'],
  'wildcard CNAME': ['x.alias', 'y.x.alias', 'x.out', 'x.hop', 'x.dangling', 'x.tocut'],
  'CNAME into a wildcard': ['cn'],
  'at and below a zone cut': ['sub', 'x.sub', 'ns.sub', 'y.ns.sub'],
  'apex': ['@'],
};

function questions(): Question[] {
  return Object.entries(NAMES).flatMap(([what, names]) =>
    names.flatMap((name) => TYPES.map((type) => ({ name: name === '@' ? ORIGIN : `${name}.${ORIGIN}`, type, what }))),
  );
}

test('wildcard answers are Knot\'s: rcode, every flag and every section, for every type around each wildcard', async () => {
  const zone: GeneratedZone = { seed: 0, origin: ORIGIN, ...zoneFiles(), questions: questions() };
  const report: DifftestReport = { seeds: 1, questions: 0, differences: [], allowed: 0 };
  await compareZones([zone], report, { strict: true });
  assert.equal(report.questions, zone.questions.length);
  assert.ok(report.questions > 400, `${report.questions} questions`);
  const summary = classify(report.differences).map(({ what, count, types }) => `${count} × ${what} (${types.join(' ')})`);
  assert.equal(report.differences.length, 0, [...summary, '', ...report.differences.slice(0, 8).map((d) => presentDifference(d))].join('\n'));
});

const SEEDS = [3, 7, 11];

test(`generated zones with wildcards answer as Knot does (seeds ${SEEDS.join(', ')})`, async () => {
  const report = await runDifftest({ seeds: SEEDS, wildcards: true });
  assert.ok(report.questions > 1000, `only ${report.questions} questions were compared`);
  assert.equal(report.differences.length, 0, report.differences.slice(0, 5).map((d) => presentDifference(d)).join('\n'));
});
