/**
 * A chain of trust through real peers: the parent zone `parent.test`, signed by BIND's
 * dnssec-signzone and served by NSD, holds the DS of `geo.parent.test`, which Meridian signs
 * online; `unbound`, with its trust anchor at the parent only, validates answers through both
 * (AD=1 for geo answers and denials). A child whose DS at the parent does not match its key gets
 * SERVFAIL: the check can fail.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ECDSAP256SHA256, newCombinedKey, presentDs, writeKeyFiles } from '../../src/dnssec/index.js';
import { findBinary, startNsd, type PeerServer } from '../difftest/peer-servers.js';
import { query, type Address } from '../support/dns-client.js';
import { waitFor } from '../support/e2e.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';
import { freePort } from '../support/free-port.js';

const CHILD = (origin: string): string => `
zone: ${origin}
ttl: 300
soa: { mname: ns.${origin}, rname: hostmaster.${origin}, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns.${origin}] }
  ns: { A: 127.0.0.1 }
  static: { TXT: ["here"] }
  www:
    ttl: 30
    geo:
      network: { "198.51.100.0/24": [europe] }
      default: [america]
pools:
  europe: { members: [127.0.1.1, 127.0.1.2] }
  america: { members: [127.0.4.1, 127.0.4.2] }
`;

let dir: string;
let meridian: TestServer;
let nsd: PeerServer;
let unbound: ChildProcess | null = null;
let resolver: Address;

function dsLine(line: string): string {
  return line.replace(/^(\S+)\s+IN\s+DS\s+/, '$1 IN DS ');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-chain-'));
  const keys = join(dir, 'keys');
  const parentKeys = join(dir, 'parent-keys');
  execFileSync('mkdir', ['-p', keys, parentKeys]);
  const now = Math.floor(Date.now() / 1000) - 60;
  const geoKey = newCombinedKey('geo.parent.test', ECDSAP256SHA256, now);
  const badKey = newCombinedKey('bad.parent.test', ECDSAP256SHA256, now);
  await writeKeyFiles(keys, geoKey);
  await writeKeyFiles(keys, badKey);
  meridian = await startTestServer({ zones: { 'geo.yaml': CHILD('geo.parent.test'), 'bad.yaml': CHILD('bad.parent.test') }, keysDir: keys, healthDisabled: true });

  // The parent: its own key from BIND, the children's DS (bad.parent.test's made from the wrong key), signed by BIND.
  execFileSync('dnssec-keygen', ['-q', '-K', parentKeys, '-a', 'ECDSAP256SHA256', '-f', 'KSK', 'parent.test']);
  const wrongDs = presentDs('bad.parent.test', geoKey.rdata).split(' IN DS ')[1]!;
  const unsignedParent = [
    '$TTL 300',
    '@ IN SOA ns.parent.test. hostmaster.parent.test. 1 7200 900 1209600 60',
    '@ IN NS ns.parent.test.',
    'ns IN A 127.0.0.1',
    'geo IN NS ns.geo.parent.test.',
    'ns.geo IN A 127.0.0.1',
    dsLine(presentDs('geo.parent.test', geoKey.rdata)).replace('geo.parent.test.', 'geo'),
    'bad IN NS ns.bad.parent.test.',
    'ns.bad IN A 127.0.0.1',
    `bad IN DS ${wrongDs}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'parent.db'), unsignedParent);
  execFileSync('dnssec-signzone', ['-q', '-d', dir, '-K', parentKeys, '-S', '-z', '-o', 'parent.test', '-f', join(dir, 'parent.signed'), join(dir, 'parent.db')]);
  nsd = await startNsd([{ origin: 'parent.test', masterFile: await readFile(join(dir, 'parent.signed'), 'utf8') }]);

  const parentKeyFile = (await readdir(parentKeys)).find((name) => name.endsWith('.key'))!;
  const anchor = (await readFile(join(parentKeys, parentKeyFile), 'utf8')).split('\n').find((line) => line.includes('DNSKEY'))!;
  const port = await freePort();
  resolver = { host: '127.0.0.1', port };
  const config = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 0',
    '  do-not-query-localhost: no',
    '  module-config: "validator iterator"',
    '  local-zone: "test." nodefault',
    '  access-control: 127.0.0.0/8 allow',
    `  trust-anchor: "${anchor.replace(/\s+/g, ' ').trim()}"`,
    'remote-control:',
    '  control-enable: no',
    'stub-zone:',
    '  name: "parent.test"',
    `  stub-addr: 127.0.0.1@${nsd.address.port}`,
    'stub-zone:',
    '  name: "geo.parent.test"',
    `  stub-addr: 127.0.0.1@${meridian.v4.port}`,
    'stub-zone:',
    '  name: "bad.parent.test"',
    `  stub-addr: 127.0.0.1@${meridian.v4.port}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'unbound.conf'), config);
  unbound = spawn(findBinary('unbound') ?? 'unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  unbound.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = unbound;
  await waitFor('unbound answering', async () => {
    if (started.exitCode !== null) throw new Error(`unbound exited ${started.exitCode}: ${output}`);
    return (await query(resolver, 'parent.test', 'SOA', { flags: { rd: true }, timeoutMs: 300 }).catch(() => null)) !== null;
  }, 20_000, 50);
});

after(async () => {
  if (unbound && unbound.exitCode === null) {
    const exited = new Promise((resolve) => unbound!.once('exit', resolve));
    unbound.kill('SIGTERM');
    await exited;
  }
  await nsd?.close();
  await meridian?.close();
  await rm(dir, { recursive: true, force: true });
});

function ask(name: string, type: string) {
  return query(resolver, name, type, { flags: { rd: true }, edns: { do: true }, timeoutMs: 5000 });
}

describe('unbound validates through NSD (parent, DS) to Meridian (child, signed online)', () => {
  it('the parent itself validates (the anchor is right)', async () => {
    const response = await ask('parent.test', 'SOA');
    assert.equal(response.rcodeName, 'NOERROR');
    assert.equal(response.flags.ad, true);
  });

  it('a geo answer: AD=1', async () => {
    const response = await ask('www.geo.parent.test', 'A');
    assert.equal(response.rcodeName, 'NOERROR');
    assert.deepEqual(response.answer.filter((record) => record.type === 'A').map((record) => record.data).sort(), ['127.0.4.1', '127.0.4.2']);
    assert.equal(response.flags.ad, true);
  });

  it('a name that does not exist (compact denial): AD=1', async () => {
    const response = await ask('nothing-here.geo.parent.test', 'A');
    assert.equal(response.answer.length, 0);
    assert.equal(response.flags.ad, true);
  });

  it('NODATA: AD=1', async () => {
    const response = await ask('static.geo.parent.test', 'AAAA');
    assert.equal(response.rcodeName, 'NOERROR');
    assert.equal(response.answer.length, 0);
    assert.equal(response.flags.ad, true);
  });

  it('a child whose key does not match the DS at the parent: SERVFAIL', async () => {
    const response = await ask('www.bad.parent.test', 'A');
    assert.equal(response.rcodeName, 'SERVFAIL');
  });
});
