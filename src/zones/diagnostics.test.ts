/**
 * Every diagnostic code `meridian check` can emit, with its exact file:line:col and message.
 * docs/zone-errors.md shows, per code, a complete file and what `check` printed for it: each such
 * example is a test here (so the page stays true), through the same function `check` uses
 * (readZonePath). The codes that need more than one file (duplicate-zone) or a failing read
 * (read-error) have their own tests; a last test requires every code of diagnostic.ts to be
 * exercised. The real CLI is tested end to end in test/e2e/zones.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKnownCountryCode } from '../geo/index.js';
import { formatDiagnostic, parseZoneFile, readZoneFile, readZonePath } from './index.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(repoRoot, 'docs', 'zone-errors.md'), 'utf8');
const CODES_DECLARED = [...readFileSync(join(import.meta.dirname, 'diagnostic.ts'), 'utf8').matchAll(/^\s+\| '([a-z-]+)'/gm)].map((m) => m[1]!);

interface DocExample {
  file: string;
  text: string;
  printed: string[];
}

/** Each ```yaml block of the page followed by the output of `meridian check FILE` for it. */
function docExamples(): DocExample[] {
  const examples: DocExample[] = [];
  const pattern = /```yaml\n((?:(?!```)[\s\S])*)```\s*\n```\n\$ npx meridian check (\S+\.yaml)\n([\s\S]*?)```/g;
  for (const match of DOC.matchAll(pattern)) {
    examples.push({ file: match[2]!, text: match[1]!, printed: match[3]!.split('\n').filter((line) => line !== '') });
  }
  return examples;
}

const examples = docExamples();
const exercised = new Set<string>();

/**
 * Runs check's reader on `text` saved as `name` in a fresh folder; returns the lines check prints:
 * errors, or warnings followed by the file's `zone NAME ok` line.
 */
async function checkLines(name: string, text: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-diagnostics-'));
  try {
    await writeFile(join(dir, name), text);
    const loads = await readZonePath(join(dir, name), { isKnownCountry: isKnownCountryCode }, dir);
    const printed = loads.flatMap((load) => (load.ok ? load.source.warnings : load.diagnostics).map(formatDiagnostic));
    if (loads.every((load) => load.ok)) for (const load of loads) if (load.ok) printed.push(`${load.file}: zone ${load.source.origin} ok`);
    return printed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('docs/zone-errors.md has an example with printed output for most codes', () => {
  assert.ok(examples.length >= 20, `${examples.length} examples`);
});

for (const example of examples) {
  test(`docs/zone-errors.md: ${example.file} prints exactly what the page shows`, async () => {
    const printed = await checkLines(example.file, example.text);
    assert.deepEqual(printed, example.printed);
    for (const line of printed) {
      const code = /\[([a-z-]+)\]$/.exec(line)?.[1];
      if (code !== undefined) exercised.add(code);
    }
  });
}

test('duplicate-zone: the second file (in sorted order) defining a zone, at its zone: value, naming the first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-dupzone-'));
  try {
    const zone = 'zone: dup.test\nsoa: { mname: ns1.dup.test, rname: hostmaster.dup.test }\nrecords:\n  "@": { NS: [ns1] }\n  ns1: { A: 192.0.2.53 }\n';
    await writeFile(join(dir, 'a.yaml'), zone);
    await writeFile(join(dir, 'b.yaml'), `# the same zone again\n${zone}`);
    const loads = await readZonePath(dir, {}, dir);
    assert.deepEqual(loads.map((load) => load.ok), [true, false]);
    const printed = loads.flatMap((load) => (load.ok ? [] : load.diagnostics.map(formatDiagnostic)));
    assert.deepEqual(printed, ['b.yaml:2:7: zone dup.test is already defined in a.yaml [duplicate-zone]']);
    exercised.add('duplicate-zone');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('read-error: a file that cannot be read is reported at 1:1 with the reason', async () => {
  // A folder named like a zone file cannot be read as one (EISDIR), even as root.
  const dir = await mkdtemp(join(tmpdir(), 'meridian-readerror-'));
  try {
    const load = await readZoneFile(dir, {}, 'unreadable.yaml');
    assert.equal(load.ok, false);
    if (load.ok) return;
    assert.deepEqual(load.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`), ['unreadable.yaml:1:1 read-error']);
    assert.match(load.diagnostics[0]!.message, /EISDIR/);
    exercised.add('read-error');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const HEAD = `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 1 }
records:
  "@": { NS: [ns1.example.test] }
`;

test('yaml-syntax: an error points at its own line (from the error offset), not at 1:1', () => {
  const result = parseZoneFile('z.yaml', `${HEAD}  ns1: { A: 192.0.2.53 }\n   www: { A: 192.0.2.1 }\n`);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.diagnostics.map((d) => `${d.line} ${d.code}`), ['6 yaml-syntax']);
});

test('a duplicate key points at the second occurrence', () => {
  const result = parseZoneFile('z.yaml', `${HEAD}  ns1: { A: 192.0.2.53 }\n  ns1: { A: 192.0.2.54 }\n`);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`), ['6:3 bad-value']);
});

test('geo rules: each bad key alone fails the file at its own position; the rules without mistakes pass', () => {
  const zone = (rule: string) => `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www:
    geo:
      ${rule}
      default: [london]
pools:
  london: { members: [192.0.2.1] }
`;
  const cases: [string, string][] = [
    ['country: { XX: [london] }', '8:18 unknown-country'],
    ['continent: { EU2: [london] }', '8:20 unknown-continent'],
    ['subdivision: { XX-CA: [london] }', '8:22 bad-subdivision'],
    ['network: { "10.0.0.0/33": [london] }', '8:18 bad-cidr'],
    ['network: { "10.0.0.1/8": [london] }', '8:18 bad-cidr'],
    ['network: { "2001:db8::1/32": [london] }', '8:18 bad-cidr'],
  ];
  for (const [rule, want] of cases) {
    const result = parseZoneFile('geo.yaml', zone(rule), { isKnownCountry: isKnownCountryCode });
    assert.deepEqual(result.ok ? [] : result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`), [want], rule);
  }
  const good = 'network: { "10.0.0.0/8": [london], "2001:db8::/32": [london] }\n      country: { GB: [london] }\n      continent: { EU: [london] }\n      subdivision: { US-CA: [london] }';
  const result = parseZoneFile('geo.yaml', zone(good), { isKnownCountry: isKnownCountryCode });
  assert.equal(result.ok, true, result.ok ? '' : result.diagnostics.map(formatDiagnostic).join('\n'));
});

test('every code of diagnostic.ts has a section in docs/zone-errors.md and was emitted by a test above', () => {
  assert.ok(CODES_DECLARED.length >= 20, `${CODES_DECLARED.length} codes read from diagnostic.ts`);
  for (const code of CODES_DECLARED) {
    assert.ok(DOC.includes(`### ${code}\n`), `docs/zone-errors.md has a section for ${code}`);
    assert.ok(exercised.has(code), `a test emitted ${code}`);
  }
});
