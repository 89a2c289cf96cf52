/**
 * A zone file large enough to be read in pieces (≥ 64 KiB, cut about every 8 KiB: see splitRecords), end to end: the
 * real server loads it off-thread, answers for names in every part of it, rejects a broken
 * edit on a late line with that line's number, keeps serving the last good version, and takes
 * the fixed file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { query } from '../support/dns-client.js';
import { waitFor } from '../support/e2e.js';
import { captureLogger } from '../support/capture-logger.js';
import { startTestServer } from '../support/start-test-server.js';

// ~105 KB: over the 64 KiB from which a file is read in pieces, in about a dozen pieces, so the names
// asked about (first, middle, last) and the broken last line come from different pieces.
const NAMES = 2000;

function address(i: number, version: number): string {
  return `198.51.${100 + ((i >> 8) & 3) + version * 4}.${i & 255}`;
}

function bigZone(version: number, lastLine = ''): string {
  const lines = [
    'zone: large.test',
    'ttl: 60',
    'soa: { mname: ns1.large.test, rname: hostmaster.large.test }',
    'records:',
    '  "@": { NS: [ns1.large.test] }',
    '  ns1: { A: 192.0.2.53 }',
  ];
  for (let i = 0; i < NAMES; i++) {
    if (i % 500 === 0) lines.push(`  # names ${i} to ${i + 499}`);
    lines.push(`  n${i}: { A: ${address(i, version)}, TXT: ["name ${i}"] }`);
  }
  if (lastLine) lines.push(lastLine);
  return `${lines.join('\n')}\n`;
}

async function answerOf(server: { v4: { host: string; port: number } }, name: string): Promise<string> {
  const response = await query(server.v4, name, 'A', { timeoutMs: 1000 });
  return `${response.rcodeName} ${response.answer.map((r) => r.data).join(' ')}`;
}

test('a zone file read in pieces serves every part, and a broken late line is reported at that line', async (t) => {
  const capture = captureLogger();
  const text = bigZone(0);
  assert.ok(text.length > 96 * 1024, 'over the 64 KiB threshold, and cut into a dozen pieces');
  const server = await startTestServer({ zones: { 'large.yaml': text }, healthDisabled: true, logger: capture.logger });
  t.after(() => server.close());

  for (const i of [0, 1, NAMES / 2, NAMES - 1]) assert.equal(await answerOf(server, `n${i}.large.test`), `NOERROR ${address(i, 0)}`);
  assert.equal(await answerOf(server, `n${NAMES}.large.test`), 'NXDOMAIN ');

  // Version 1 with an invalid address on the last line: rejected with that line, version 0 kept.
  const file = join(server.zonesDir, 'large.yaml');
  const broken = bigZone(1, '  late: { A: 192.0.2.300 }');
  const brokenLine = broken.split('\n').findIndex((line) => line.includes('192.0.2.300')) + 1;
  await writeFile(file, broken);
  const rejection = await waitFor(
    'the rejection to be logged',
    () => capture.lines().find((line) => line.level === 50 && line.file === file),
    10_000,
  );
  assert.equal(rejection.line, brokenLine);
  assert.match(String(rejection.msg), /192\.0\.2\.300/);
  assert.equal(await answerOf(server, `n${NAMES - 1}.large.test`), `NOERROR ${address(NAMES - 1, 0)}`, 'the last good version still answers');

  // Fixed: version 1 is served everywhere.
  await writeFile(file, bigZone(1));
  await waitFor('version 1 to be served', async () => (await answerOf(server, `n${NAMES - 1}.large.test`)) === `NOERROR ${address(NAMES - 1, 1)}`, 10_000);
  assert.equal(await answerOf(server, 'n0.large.test'), `NOERROR ${address(0, 1)}`);
});
