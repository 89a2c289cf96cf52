/**
 * Zone validation through the real CLI (`meridian check`): one fixture per problem in
 * test/fixtures/zones/invalid/, each starting with `# expect: LINE:COL code`; a folder that
 * defines one zone twice; the contract zone passes; and a mutation test that puts a bogus key
 * into every mapping of the contract and expects exactly one diagnostic, at that line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type YAMLMap } from 'yaml';
import { query } from '../support/dns-client.js';
import { contractZone, repoRoot, runCli, startCoreServer } from '../support/e2e.js';

const FIXTURES = join('test', 'fixtures', 'zones');
const INVALID = join(FIXTURES, 'invalid');
const DIAGNOSTIC = /^(.+):(\d+):(\d+): (.+) \[([a-z-]+)\]$/;

interface Printed {
  file: string;
  line: number;
  col: number;
  message: string;
  code: string;
}

/** The `file:line:col: message [code]` lines of check's output. */
function diagnostics(stdout: string): Printed[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = DIAGNOSTIC.exec(line);
      assert.ok(match, `not a diagnostic line: ${line}`);
      return { file: match[1]!, line: Number(match[2]), col: Number(match[3]), message: match[4]!, code: match[5]! };
    });
}

async function expectation(file: string): Promise<{ line: number; col: number; code: string }> {
  const first = (await readFile(join(repoRoot, file), 'utf8')).split('\n')[0] ?? '';
  const match = /^# expect: (\d+):(\d+) ([a-z-]+)$/.exec(first);
  assert.ok(match, `${file} must start with "# expect: LINE:COL code"`);
  return { line: Number(match[1]), col: Number(match[2]), code: match[3]! };
}

test('check accepts the contract zone folder (exit 0)', async () => {
  const result = await runCli(['check', 'zones']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /zones\/example\.test\.yaml: zone example\.test ok/);
  assert.doesNotMatch(result.stderr, /no soa serial/, 'the contract zone writes its serial');
});

const REQUIRED = ['unknown-key', 'bad-address', 'name-outside-zone', 'cname-with-other-data', 'unknown-pool', 'unknown-check', 'missing-soa', 'missing-ns'];

async function invalidFixtures(): Promise<{ file: string; want: { line: number; col: number; code: string } }[]> {
  const names = (await readdir(join(repoRoot, INVALID))).filter((name) => name.endsWith('.yaml')).sort();
  return Promise.all(names.map(async (name) => ({ file: join(INVALID, name), want: await expectation(join(INVALID, name)) })));
}

test('check on the invalid fixtures folder: each file gets exactly its expected file:line:col and code', async () => {
  const fixtures = await invalidFixtures();
  assert.ok(fixtures.length >= REQUIRED.length, `${fixtures.length} fixtures`);
  for (const code of REQUIRED) assert.ok(fixtures.some((f) => f.want.code === code), `a fixture for ${code}`);
  // Every file is invalid, so none of them counts as "the same zone twice".
  const result = await runCli(['check', INVALID]);
  assert.equal(result.code, 1);
  const printed = diagnostics(result.stdout);
  for (const { file, want } of fixtures) {
    assert.deepEqual(
      printed.filter((d) => d.file === file).map((d) => `${d.file}:${d.line}:${d.col}: [${d.code}]`),
      [`${file}:${want.line}:${want.col}: [${want.code}]`],
      file,
    );
  }
  assert.equal(printed.length, fixtures.length, 'nothing else is printed');
});

// Every code's exact position and message is a unit test (src/zones/diagnostics.test.ts); here the
// real CLI is run on one file alone, as an editor or CI would.
test('check on one invalid file: exit 1 and exactly one file:line:col: message [code] line', async () => {
  const file = join(INVALID, 'unknown-key.yaml');
  const want = await expectation(file);
  const result = await runCli(['check', file]);
  assert.equal(result.code, 1, `exit code: ${result.stdout}${result.stderr}`);
  assert.deepEqual(
    diagnostics(result.stdout).map((d) => `${d.file}:${d.line}:${d.col}: [${d.code}]`),
    [`${file}:${want.line}:${want.col}: [${want.code}]`],
  );
});

test('check rejects a folder defining the same zone twice (duplicate-zone on the second file)', async () => {
  const folder = join(FIXTURES, 'invalid-folders', 'duplicate-zone');
  const want = await expectation(join(folder, 'b.yaml'));
  const result = await runCli(['check', folder]);
  assert.equal(result.code, 1);
  const printed = diagnostics(result.stdout);
  assert.deepEqual(
    printed.map((d) => `${d.file}:${d.line}:${d.col}: [${d.code}]`),
    [`${join(folder, 'b.yaml')}:${want.line}:${want.col}: [${want.code}]`],
  );
  assert.match(printed[0]!.message, /a\.yaml/, 'the message names the file that defines it first');
});

test('check of a missing path fails with a message', async () => {
  const result = await runCli(['check', 'test/fixtures/zones/no-such-file.yaml']);
  assert.equal(result.code, 1);
  assert.match(result.stderr + result.stdout, /no-such-file\.yaml/);
});

// Mappings whose keys are names chosen by the operator (zone names, pool names, country codes):
// a bogus key there is a bad entry, not an unknown key.
const NAME_KEYED = new Set(['records', 'pools', 'checks', 'country', 'continent', 'subdivision', 'asn', 'network']);

interface Mutant {
  path: string;
  line: number;
  col: number;
  nameKeyed: boolean;
  where: string;
}

test('mutation: a bogus key in any mapping of the contract gives exactly one diagnostic at that line', async (t) => {
  const source = contractZone();
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter });
  const mutants: { text: string; line: number; col: number; nameKeyed: boolean; where: string }[] = [];
  visit(document, {
    Map(_key, node, path) {
      const map = node as YAMLMap;
      const first = map.items[0];
      if (!first || !isScalar(first.key) || !first.key.range) return;
      const parent = [...path].reverse().find((p) => isPair(p));
      const parentKey = parent && isPair(parent) && isScalar(parent.key) ? String(parent.key.value) : '';
      const offset = first.key.range[0];
      const { line, col } = lineCounter.linePos(offset);
      const insert = map.flow ? 'bogus_key: 1, ' : `bogus_key: 1\n${' '.repeat(col - 1)}`;
      mutants.push({
        text: source.slice(0, offset) + insert + source.slice(offset),
        line,
        col,
        nameKeyed: NAME_KEYED.has(parentKey),
        where: `${parentKey || '(root)'} at ${line}:${col}`,
      });
    },
  });
  assert.ok(isMap(document.contents));
  assert.ok(mutants.length >= 30, `${mutants.length} mappings`);

  const dir = await mkdtemp(join(tmpdir(), 'meridian-mutants-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const written: Mutant[] = [];
  for (const [i, mutant] of mutants.entries()) {
    const path = join(dir, `mutant-${String(i).padStart(2, '0')}.yaml`);
    await writeFile(path, mutant.text);
    written.push({ path, line: mutant.line, col: mutant.col, nameKeyed: mutant.nameKeyed, where: mutant.where });
  }
  // One run over the folder: every mutant is invalid, so none is "the same zone twice".
  const result = await runCli(['check', dir], 30_000);
  assert.equal(result.code, 1);
  const printed = diagnostics(result.stdout);
  let unknownKeys = 0;
  for (const mutant of written) {
    // check prints a path below the working folder relative, anything else absolute.
    const mine = printed.filter((d) => resolve(repoRoot, d.file) === mutant.path);
    if (mutant.nameKeyed) {
      // bogus_key becomes a name (or a country): rejected, and only on that line.
      assert.ok(mine.length >= 1, `${mutant.where}: rejected`);
      for (const d of mine) assert.equal(d.line, mutant.line, `${mutant.where}: ${d.message}`);
    } else {
      assert.deepEqual(
        mine.map((d) => `${d.line}:${d.col} ${d.code}`),
        [`${mutant.line}:${mutant.col} unknown-key`],
        `${mutant.where}: ${mine.map((d) => d.message).join('; ')}`,
      );
      assert.match(mine[0]!.message, /"bogus_key"/);
      unknownKeys++;
    }
  }
  assert.ok(unknownKeys >= 25, `${unknownKeys} unknown-key mutants`);
});

test('the server loads the valid zones of a folder and refuses to serve an invalid one', async (t) => {
  const broken = await readFile(join(repoRoot, INVALID, 'bad-address.yaml'), 'utf8');
  const server = await startCoreServer({
    zones: { 'example.test.yaml': contractZone(), 'broken.yaml': broken.replaceAll('example.test', 'broken.test') },
  });
  t.after(() => server.close());
  assert.equal((await query(server.v4, 'static.example.test', 'A')).answer.length, 3);
  assert.equal((await query(server.v4, 'ns1.broken.test', 'A')).rcodeName, 'REFUSED');
});

test('check prints warnings as file:line:col: warning: and still exits 0 (mapped member, target read as absolute), and a note on stderr when the serial is omitted', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'meridian-warn-'));
  try {
    const file = join(folder, 'warn.yaml');
    await writeFile(
      file,
      [
        'zone: warn.test',
        'soa: { mname: ns1.warn.test, rname: hostmaster.warn.test }',
        'pools:',
        '  web: { members: [192.0.2.1, "::ffff:1.2.3.4"] }',
        'records:',
        '  "@": { NS: [ns1, ns2] }',
        '  ns1: { A: 192.0.2.53 }',
        '  ns2: { A: 198.51.100.53 }',
        '  www: { pool: web }',
        '  eu: { CNAME: www.eu }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['check', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 3, result.stdout);
    assert.match(lines[0]!, /warn\.yaml:4:31: warning: member ::ffff:1\.2\.3\.4 .* \[mapped-address\]$/);
    assert.match(lines[1]!, /warn\.yaml:10:16: warning: CNAME target "www\.eu" is read as the absolute name www\.eu\. .* \[absolute-target\]$/);
    assert.match(lines[2]!, /warn\.yaml: zone warn\.test ok$/);
    // No serial in the file: check says how to keep every nameserver on one serial.
    assert.match(result.stderr, /note: no soa serial in \S*warn\.yaml: each server derives one .* write "serial:" under "soa:"/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
