/**
 * Issue 5, "Admin HTTP", end to end: a real Meridian in this process with its admin endpoint on
 * 127.0.0.1 (port chosen at run time), real HTTP health targets on 127.72.x.y, real DNS queries,
 * and the real `meridian override` and `meridian serve` commands. Nothing binds a non-loopback
 * address: the refusal without a token happens before the admin endpoint binds, and the tests
 * use documentation addresses (192.0.2.1, 2001:db8::1) that no interface has, so a regression
 * would fail to bind rather than expose anything.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopback } from '../../src/admin/index.js';
import { startMeridian } from '../../src/server/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { query, type Address } from '../support/dns-client.js';
import { CLI, cliInProcess, repoRoot, waitFor } from '../support/e2e.js';
import { httpGroup } from '../support/probe-targets.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/start-test-server.js';

// ---- helpers -------------------------------------------------------------------------------------




/** TXT strings long enough that the answer does not fit 512 bytes (a UDP query without EDNS). */
const BIG_TXT = Array.from({ length: 10 }, (_, i) => `"${String(i).repeat(80)}"`).join(', ');

/**
 * example.test with a geo name (default rule), a checked pool, and a name too big for plain UDP.
 * The tests assert exact answers, so one late probe must not withdraw a member: on a loaded machine
 * (a `meridian` child starting beside three test files) this process can sit unscheduled past a
 * 500 ms timeout, and then the probe's timer fires before its reply is read. Hence the longest
 * timeout the interval allows and fall 2; a stopped target (connection refused) still goes in ~2 s.
 */
function exampleZone(members: readonly string[], port: number): string {
  return `zone: example.test
ttl: 60
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 7 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www: { geo: { default: [web] } }
  big: { TXT: [${BIG_TXT}] }
pools:
  web: { check: web, members: [${members.join(', ')}] }
checks:
  web: { type: http, port: ${port}, path: /healthz, expect: 200, interval: 1s, timeout: 1s, rise: 1, fall: 2 }
`;
}

async function serveExample(t: TestContext, members: readonly string[], options: Partial<TestServerOptions> = {}) {
  const group = await httpGroup(t, members);
  const server = await startTestServer({
    zones: { 'example.yaml': exampleZone(members, group.port) },
    admin: { host: '127.0.0.1', port: 0 },
    ...options,
  });
  t.after(() => server.close());
  const adminAddress = server.running.adminAddress;
  assert.ok(adminAddress, 'the admin endpoint is on');
  return { server, targets: group.targets, admin: `${adminAddress.host}:${adminAddress.port}` };
}

function http(admin: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://${admin}${path}`, { ...init, signal: AbortSignal.timeout(3000) });
}

/** The A answer of a name, sorted and space-joined. */
async function answerOf(address: Address, name: string): Promise<string> {
  const response = await query(address, name, 'A', { timeoutMs: 1000 });
  assert.equal(response.rcodeName, 'NOERROR');
  return response.answer
    .filter((record) => record.type === 'A')
    .map((record) => record.data)
    .sort()
    .join(' ');
}

interface Exposition {
  text: string;
  /** The value of the sample `name` with exactly these labels, or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Sample names (as written, with _bucket/_sum/_count suffixes). */
  sampleNames(): Set<string>;
  help: Map<string, string>;
  type: Map<string, string>;
}

function parseExposition(text: string): Exposition {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      const [, , name, ...rest] = line.split(' ');
      help.set(name!, rest.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, kind] = line.split(' ');
      type.set(name!, kind!);
      continue;
    }
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    text,
    help,
    type,
    sampleNames: () => new Set(samples.map((s) => s.name)),
    value(name, wanted = {}) {
      const keys = Object.keys(wanted);
      const found = samples.find(
        (s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((key) => s.labels[key] === wanted[key]),
      );
      return found?.value;
    },
  };
}

async function scrape(admin: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const response = await http(admin, '/metrics', { headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `meridian ARGS` with MERIDIAN_ADMIN_TOKEN set to `token` (or unset), bounded. */
function meridian(args: readonly string[], token: string | null, timeoutMs = 20_000): Promise<ExecResult> {
  const env = { ...process.env };
  delete env.MERIDIAN_ADMIN_TOKEN;
  if (token !== null) env.MERIDIAN_ADMIN_TOKEN = token;
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: repoRoot, env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string }) | null;
      resolve({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * `meridian ARGS` in this process (cliInProcess), MERIDIAN_ADMIN_TOKEN set to `token` (or unset) for the
 * call: the command's requests, exit code and messages without a node start per call. Each test still
 * runs the real command as a process at least once where it is about the command (`meridian` above).
 */
async function meridianInProcess(args: readonly string[], token: string | null): Promise<ExecResult> {
  const saved = process.env.MERIDIAN_ADMIN_TOKEN;
  if (token === null) delete process.env.MERIDIAN_ADMIN_TOKEN;
  else process.env.MERIDIAN_ADMIN_TOKEN = token;
  try {
    return await cliInProcess(args);
  } finally {
    if (saved === undefined) delete process.env.MERIDIAN_ADMIN_TOKEN;
    else process.env.MERIDIAN_ADMIN_TOKEN = saved;
  }
}

// ---- tests ---------------------------------------------------------------------------------------

test('/metrics: query, routing, transport, health and zone series move as queries are sent; every family has HELP and TYPE', async (t) => {
  const members = ['127.72.1.1', '127.72.1.2'];
  const { server, admin } = await serveExample(t, members);
  const before = await scrape(admin);
  const delta = (after: Exposition, name: string, labels: Record<string, string> = {}): number =>
    (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);

  const udpA = 7;
  for (let i = 0; i < udpA; i++) assert.equal(await answerOf(server.v4, 'www.example.test'), members.join(' '));
  const ecs = await query(server.v4, 'www.example.test', 'A', { timeoutMs: 1000, edns: { clientSubnet: '198.51.100.0/24' } });
  assert.equal(ecs.rcodeName, 'NOERROR');
  const tcpA = 2;
  for (let i = 0; i < tcpA; i++) assert.equal((await query(server.v4, 'www.example.test', 'A', { timeoutMs: 1000, tcp: true })).rcodeName, 'NOERROR');
  for (let i = 0; i < 3; i++) assert.equal((await query(server.v4, `nope${i}.example.test`, 'A', { timeoutMs: 1000 })).rcodeName, 'NXDOMAIN');
  for (let i = 0; i < 2; i++) assert.equal((await query(server.v4, 'www.elsewhere.invalid', 'A', { timeoutMs: 1000 })).rcodeName, 'REFUSED');
  const big = await query(server.v4, 'big.example.test', 'TXT', { timeoutMs: 1000 });
  assert.equal(big.flags.tc, true, 'the TXT answer is truncated over plain UDP');

  const after = await scrape(admin);
  const sentA = udpA + 1 + tcpA;
  assert.equal(delta(after, 'meridian_dns_queries_total', { zone: 'example.test', type: 'A', rcode: 'NOERROR' }), sentA);
  assert.equal(delta(after, 'meridian_dns_queries_total', { zone: 'example.test', type: 'A', rcode: 'NXDOMAIN' }), 3);
  assert.equal(delta(after, 'meridian_dns_queries_total', { zone: '', type: 'A', rcode: 'REFUSED' }), 2);
  assert.equal(delta(after, 'meridian_dns_queries_total', { zone: 'example.test', type: 'TXT', rcode: 'NOERROR' }), 1);
  assert.equal(delta(after, 'meridian_dns_routed_answers_total', { outcome: 'primary', rule: 'default' }), sentA);
  assert.equal(delta(after, 'meridian_dns_truncated_total'), 1);
  assert.equal(delta(after, 'meridian_dns_tcp_connections_total'), tcpA);
  assert.equal(delta(after, 'meridian_dns_tcp_messages_total'), tcpA);
  assert.equal(delta(after, 'meridian_dns_udp_packets_total'), udpA + 1 + 3 + 2 + 1);
  assert.equal(delta(after, 'meridian_dns_ecs_queries_total'), 1);
  assert.equal(after.value('meridian_dns_internal_errors_total'), 0);
  assert.equal(after.value('meridian_dns_dropped_packets_total', { reason: 'short' }), 0);
  // The UDP I/O in use, as /status says it too.
  assert.equal(after.value('meridian_dns_udp_io_info', { io: server.running.sockets.io }), 1);

  // Health: a checked pool's members as gauges, probe counts and durations by check.
  for (const member of members) assert.equal(after.value('meridian_health_member_up', { zone: 'example.test', pool: 'web', member }), 1);
  assert.ok((after.value('meridian_health_probes_total', { check: 'web', result: 'ok' }) ?? 0) >= members.length);
  assert.equal(after.value('meridian_health_probes_total', { check: 'web', result: 'timeout' }), 0);
  // Every finished probe is timed, the start-up round included.
  const probes = ['ok', 'fail', 'timeout'].reduce((sum, result) => sum + (after.value('meridian_health_probes_total', { check: 'web', result }) ?? 0), 0);
  assert.equal(after.value('meridian_health_probe_duration_seconds_count', { check: 'web' }), probes);
  assert.ok(after.value('meridian_health_probe_duration_seconds_bucket', { check: 'web', le: '+Inf' }) !== undefined);
  assert.equal(after.value('meridian_health_scheduler_errors_total'), 0);

  // Zones.
  const file = join(server.zonesDir, 'example.yaml');
  assert.equal(after.value('meridian_zone_load_ok', { zone: 'example.test', file }), 1);
  assert.equal(after.value('meridian_zone_serial', { zone: 'example.test' }), 7);
  assert.equal(after.value('meridian_zone_reloads_total', { result: 'ok' }), 0);
  assert.equal(after.value('meridian_zone_reloads_total', { result: 'failed' }), 0);

  // Every sample belongs to a family with HELP and TYPE; every name is a well-formed meridian_ name.
  const families = new Set<string>();
  for (const name of after.sampleNames()) {
    assert.match(name, /^meridian_[a-z][a-z0-9_]*$/, `metric name ${name}`);
    const family = after.type.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(after.type.has(family), `# TYPE for ${name}`);
    assert.ok(after.help.has(family) && after.help.get(family) !== '', `# HELP for ${name}`);
    families.add(family);
  }
  for (const name of after.type.keys()) assert.ok(after.help.has(name), `# HELP for ${name}`);
  // Meridian's own families: lower-case letters and underscores only.
  const runtime = (name: string): boolean => name.startsWith('meridian_process_') || name.startsWith('meridian_nodejs_');
  const own = [...after.type.keys()].filter((name) => !runtime(name));
  for (const name of own) assert.match(name, /^meridian_[a-z_]+$/);
  for (const expected of [
    'meridian_dns_queries_total',
    'meridian_dns_routed_answers_total',
    'meridian_dns_udp_packets_total',
    'meridian_dns_tcp_messages_total',
    'meridian_dns_tcp_connections_total',
    'meridian_dns_tcp_connections_rejected_total',
    'meridian_dns_truncated_total',
    'meridian_dns_ecs_queries_total',
    'meridian_dns_internal_errors_total',
    'meridian_dns_dropped_packets_total',
    'meridian_health_probes_total',
    'meridian_health_probe_duration_seconds',
    'meridian_health_state_changes_total',
    'meridian_health_missed_ticks_total',
    'meridian_health_overlapping_turns_total',
    'meridian_health_scheduler_errors_total',
    'meridian_health_member_up',
    'meridian_zone_load_ok',
    'meridian_zone_serial',
    'meridian_zone_reloads_total',
  ]) {
    assert.ok(after.type.has(expected), `${expected} is exported`);
  }
  assert.equal(after.type.get('meridian_dns_queries_total'), 'counter');
  assert.equal(after.type.get('meridian_health_member_up'), 'gauge');
  assert.equal(after.type.get('meridian_health_probe_duration_seconds'), 'histogram');
  // The runtime's metrics carry the prefix once: meridian_process_cpu_seconds_total, not meridian_process_process_….
  for (const expected of ['meridian_process_cpu_seconds_total', 'meridian_process_resident_memory_bytes', 'meridian_nodejs_eventloop_lag_seconds', 'meridian_nodejs_heap_size_used_bytes']) {
    assert.ok(families.has(expected), `${expected} is exported`);
  }
  assert.ok(![...families].some((name) => /process_process|process_nodejs/.test(name)), 'no doubled prefix');
});

test('/healthz and /readyz answer 200 once started; /status describes zones, pools and members; unknown paths are 404', async (t) => {
  const members = ['127.72.2.1', '127.72.2.2'];
  const { server, admin } = await serveExample(t, members);
  const healthz = await http(admin, '/healthz');
  assert.equal(healthz.status, 200);
  assert.equal(await healthz.text(), 'ok\n');
  const readyz = await http(admin, '/readyz');
  assert.equal(readyz.status, 200);
  assert.equal(await readyz.text(), 'ready\n');

  const response = await http(admin, '/status');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const status = (await response.json()) as {
    ready: boolean;
    listen: string[];
    io: string;
    zones: { file: string; origin: string; serial: number; ok: boolean; diagnosticsText: string[]; loadedAt: string }[];
    pools: { zone: string; name: string; pool: string; check: string; members: { address: string; status: string; override: string | null; probe: { result: string; latencyMs: number; lastProbeAt: string } | null }[] }[];
  };
  assert.equal(status.ready, true);
  assert.deepEqual(status.listen, [`127.0.0.1:${server.v4.port}`, `[::1]:${server.v6.port}`]);
  assert.equal(status.io, server.running.sockets.io);
  assert.equal(status.zones.length, 1);
  assert.deepEqual(
    { file: status.zones[0]!.file, origin: status.zones[0]!.origin, serial: status.zones[0]!.serial, ok: status.zones[0]!.ok, diagnostics: status.zones[0]!.diagnosticsText },
    { file: join(server.zonesDir, 'example.yaml'), origin: 'example.test', serial: 7, ok: true, diagnostics: [] },
  );
  assert.ok(!Number.isNaN(Date.parse(status.zones[0]!.loadedAt)));
  assert.equal(status.pools.length, 1);
  const pool = status.pools[0]!;
  assert.deepEqual([pool.zone, pool.name, pool.pool, pool.check], ['example.test', 'www.example.test', 'web', 'web']);
  assert.deepEqual(pool.members.map((m) => m.address), members);
  for (const member of pool.members) {
    assert.equal(member.status, 'up');
    assert.equal(member.override, null);
    assert.ok(member.probe, 'probe details');
    assert.equal(member.probe.result, 'ok');
    assert.equal(typeof member.probe.latencyMs, 'number');
    assert.ok(!Number.isNaN(Date.parse(member.probe.lastProbeAt)));
  }

  const missing = await http(admin, '/nothing-here');
  assert.equal(missing.status, 404);
  assert.ok(((await missing.json()) as { endpoints: string[] }).endpoints.includes('/metrics'));
});

test('overrides over HTTP: down and drain take a member out of the answer at once, DELETE and clear bring it back, up forces a dead one in', async (t) => {
  const members = ['127.72.3.1', '127.72.3.2', '127.72.3.3'];
  const [m1, m2, m3] = members as [string, string, string];
  const { server, admin, targets } = await serveExample(t, members);
  const www = () => answerOf(server.v4, 'www.example.test');
  const put = (member: string, body: string) => http(admin, `/overrides/${member}`, { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
  assert.equal(await www(), `${m1} ${m2} ${m3}`);

  const down = await put(m2, '{"state":"down"}');
  assert.equal(down.status, 200);
  assert.deepEqual(await down.json(), { member: m2, override: 'down' });
  assert.equal(await www(), `${m1} ${m3}`, 'gone from the very next answer');
  assert.deepEqual((await (await http(admin, '/overrides')).json()) as unknown, [{ address: m2, state: 'down' }]);
  const metrics = parseExposition(await (await http(admin, '/metrics')).text());
  assert.equal(metrics.value('meridian_health_member_up', { zone: 'example.test', pool: 'web', member: m2 }), 0);
  const status = (await (await http(admin, '/status')).json()) as { pools: { members: { address: string; status: string; override: string | null }[] }[] };
  const shown = status.pools[0]!.members.find((m) => m.address === m2)!;
  assert.deepEqual([shown.status, shown.override], ['down', 'down']);

  const cleared = await http(admin, `/overrides/${m2}`, { method: 'DELETE' });
  assert.equal(cleared.status, 200);
  assert.deepEqual(await cleared.json(), { member: m2, override: 'clear' });
  assert.equal(await www(), `${m1} ${m2} ${m3}`, 'back at once');

  assert.equal((await put(m3, '{"state":"drain"}')).status, 200);
  assert.equal(await www(), `${m1} ${m2}`);
  assert.equal(server.running.health.overrideOf(m3), 'drained');
  assert.equal((await put(m3, '{"state":"clear"}')).status, 200);
  assert.equal(await www(), `${m1} ${m2} ${m3}`);
  // The state may also come in the query string.
  assert.equal((await http(admin, `/overrides/${m1}?state=drain`, { method: 'PUT' })).status, 200);
  assert.equal(await www(), `${m2} ${m3}`);
  assert.equal((await http(admin, `/overrides/${m1}`, { method: 'DELETE' })).status, 200);

  // `up` answers a member whose probes fail.
  await targets[0]!.stop();
  await waitFor('the stopped member to be withdrawn', async () => (await www()) === `${m2} ${m3}`, 5000);
  assert.equal((await put(m1, '{"state":"up"}')).status, 200);
  assert.equal(await www(), `${m1} ${m2} ${m3}`);
  assert.equal((await http(admin, `/overrides/${m1}`, { method: 'DELETE' })).status, 200);
  assert.equal(await www(), `${m2} ${m3}`);

  // Bad requests change nothing.
  const badState = await put(m2, '{"state":"sideways"}');
  assert.equal(badState.status, 400);
  assert.match(((await badState.json()) as { error: string }).error, /up, down, drain, clear/);
  assert.equal((await put(m2, '{"state":')).status, 400);
  assert.equal((await put(m2, '{}')).status, 400);
  assert.equal((await put('not-an-address', '{"state":"down"}')).status, 400);
  assert.equal((await put('%E0%A4%A', '{"state":"down"}')).status, 400, 'bad percent-encoding is a 400, not a 500');
  const inherited = await put(m2, '{"state":"toString"}');
  assert.equal(inherited.status, 400);
  assert.match(((await inherited.json()) as { error: string }).error, /up, down, drain, clear/);
  const huge = await put(m2, JSON.stringify({ state: 'down', padding: 'x'.repeat(8000) }));
  assert.equal(huge.status, 413, 'an oversized body is answered, not cut off');
  await huge.arrayBuffer();
  assert.equal((await http(admin, `/overrides/${m2}`)).status, 405);
  assert.equal(await www(), `${m2} ${m3}`);
  assert.deepEqual((await (await http(admin, '/overrides')).json()) as unknown, []);
});

test('an override the state file cannot keep is refused over HTTP and changes no answer', async (t) => {
  const members = ['127.72.3.5', '127.72.3.6'];
  const [m1, m2] = members as [string, string];
  const dir = await mkdtemp(join(tmpdir(), 'meridian-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stateFile = join(dir, 'overrides.json');
  const { server, admin } = await serveExample(t, members, { stateFile });
  // A non-empty directory where the file goes: the write fails (for root too).
  await mkdir(join(stateFile, 'in-the-way'), { recursive: true });
  const refused = await http(admin, `/overrides/${m2}`, { method: 'PUT', body: '{"state":"down"}' });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { error: string }).error, /^cannot write health state file .*overrides\.json: .*; the override was not changed$/);
  assert.equal(await answerOf(server.v4, 'www.example.test'), `${m1} ${m2}`, 'the member is still answered');
  assert.deepEqual((await (await http(admin, '/overrides')).json()) as unknown, []);
});

test('the `meridian override` command sets, lists and clears overrides on a running server', async (t) => {
  const members = ['127.72.4.1', '127.72.4.2'];
  const [m1, m2] = members as [string, string];
  const { server, admin } = await serveExample(t, members);
  const www = () => answerOf(server.v4, 'www.example.test');

  const down = await meridian(['override', m2, 'down', '--admin', admin], null);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(JSON.parse(down.stdout), { member: m2, override: 'down' });
  assert.equal(await www(), m1);

  const list = await meridianInProcess(['override', '--list', '--admin', admin], null);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), [{ address: m2, state: 'down' }]);

  const clear = await meridianInProcess(['override', m2, 'clear', '--admin', admin], null);
  assert.equal(clear.code, 0, clear.stderr);
  assert.equal(await www(), `${m1} ${m2}`);

  const usage = await meridianInProcess(['override', m2, 'sideways', '--admin', admin], null);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^usage: meridian override/);
  const refused = await meridianInProcess(['override', 'nonsense', 'down', '--admin', admin], null);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^meridian: 400 .*not an IP address/s);
});

test('an override for an address no pool has is refused with the known members (HTTP 404, the command exits 1); force saves a planned one', async (t) => {
  const members = ['127.72.4.5', '127.72.4.6'];
  const [m1, m2] = members as [string, string];
  const dir = await mkdtemp(join(tmpdir(), 'meridian-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stateFile = join(dir, 'overrides.json');
  const { server, admin } = await serveExample(t, members, { stateFile });
  const planned = '127.72.4.99';

  const refused = await http(admin, `/overrides/${planned}`, { method: 'PUT', body: '{"state":"down"}' });
  assert.equal(refused.status, 404);
  const body = (await refused.json()) as { error: string; known: string[] };
  assert.deepEqual(body.known, [m1, m2]);
  assert.match(body.error, /127\.72\.4\.99 is not a member of any pool this server serves \(known members: 127\.72\.4\.5, 127\.72\.4\.6\).*force/);
  assert.deepEqual((await (await http(admin, '/overrides')).json()) as unknown, [], 'nothing saved');
  assert.equal(server.running.health.overrideOf(planned), null);
  await assert.rejects(readFile(stateFile, 'utf8'), 'the state file was not written');

  const command = await meridian(['override', planned, 'drain', '--admin', admin], null);
  assert.equal(command.code, 1);
  assert.match(command.stderr, /^meridian: 404 127\.72\.4\.99 is not a member of any pool this server serves \(known members: 127\.72\.4\.5, 127\.72\.4\.6\)/);
  assert.deepEqual((await (await http(admin, '/overrides')).json()) as unknown, []);

  // A member's other spelling is the same member.
  const known = await http(admin, `/overrides/${encodeURIComponent(m1)}`, { method: 'PUT', body: '{"state":"drain"}' });
  assert.equal(known.status, 200);
  assert.equal((await http(admin, `/overrides/${m1}`, { method: 'DELETE' })).status, 200);

  const forcedHttp = await http(admin, `/overrides/${planned}?force=1`, { method: 'PUT', body: '{"state":"down"}' });
  assert.equal(forcedHttp.status, 200);
  assert.equal(server.running.health.overrideOf(planned), 'down');
  const forcedCommand = await meridianInProcess(['override', '127.72.4.98', 'down', '--force', '--admin', admin], null);
  assert.equal(forcedCommand.code, 0, forcedCommand.stderr);
  assert.deepEqual(JSON.parse(await readFile(stateFile, 'utf8')).overrides, { '127.72.4.98': 'down', [planned]: 'down' });
  // Clearing needs no force: a stale override of a member gone from the zones can always go.
  assert.equal((await http(admin, `/overrides/${planned}`, { method: 'DELETE' })).status, 200);
  assert.equal(server.running.health.overrideOf(planned), null);
});

test('with a token, everything but /healthz and /readyz needs `Authorization: Bearer TOKEN` (HTTP and the override command)', async (t) => {
  const members = ['127.72.5.1', '127.72.5.2'];
  const [m1, m2] = members as [string, string];
  const { server, admin } = await serveExample(t, members, { adminToken: 'secret' });
  const www = () => answerOf(server.v4, 'www.example.test');

  const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'secret' }, { authorization: 'Basic c2VjcmV0' }, { authorization: 'Bearer secret2' }];
  for (const headers of wrong) {
    for (const path of ['/metrics', '/status', '/overrides']) {
      const response = await http(admin, path, { headers });
      assert.equal(response.status, 401, `${path} with ${JSON.stringify(headers)}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      await response.arrayBuffer();
    }
  }
  const sneaky = await http(admin, `/overrides/${m2}`, { method: 'PUT', body: '{"state":"down"}' });
  assert.equal(sneaky.status, 401);
  assert.equal(await www(), `${m1} ${m2}`, 'an unauthenticated override does nothing');

  const auth = { authorization: 'Bearer secret' };
  assert.equal((await http(admin, '/metrics', { headers: auth })).status, 200);
  assert.equal((await http(admin, '/status', { headers: auth })).status, 200);
  assert.equal((await http(admin, '/healthz')).status, 200, '/healthz needs no token');
  assert.equal((await http(admin, '/readyz')).status, 200, '/readyz needs no token');
  const put = await http(admin, `/overrides/${m2}`, { method: 'PUT', body: '{"state":"down"}', headers: auth });
  assert.equal(put.status, 200);
  assert.equal(await www(), m1);

  // The override command takes the token from MERIDIAN_ADMIN_TOKEN.
  const without = await meridianInProcess(['override', m2, 'clear', '--admin', admin], null);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /^meridian: 401 /);
  assert.equal(await www(), m1);
  const withToken = await meridian(['override', m2, 'clear', '--admin', admin], 'secret');
  assert.equal(withToken.code, 0, withToken.stderr);
  assert.equal(await www(), `${m1} ${m2}`);
});

test('a non-loopback admin address without a token is refused before it binds (startMeridian and `meridian serve`)', async (t) => {
  assert.equal(isLoopback('0.0.0.0'), false);
  assert.equal(isLoopback('::'), false);
  assert.equal(isLoopback('192.0.2.1'), false);
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('127.8.9.10'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('localhost'), true);

  const dir = await mkdtemp(join(tmpdir(), 'meridian-admin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'a.yaml'),
    'zone: a.test\nsoa: { mname: ns1.a.test, rname: hostmaster.a.test, serial: 1 }\nrecords:\n  "@": { NS: [ns1.a.test] }\n  ns1: { A: 192.0.2.53 }\n',
  );
  // The refusal comes first: a zones path that does not exist and a DNS address no interface has
  // would each fail the start differently if anything were loaded or bound before it.
  for (const [host, token] of [['192.0.2.1', null], ['2001:db8::1', null], ['192.0.2.1', '']] as const) {
    await assert.rejects(
      startMeridian({
        zonesPath: join(dir, 'no-such-folder'),
        listen: [{ host: '192.0.2.1', port: 5300 }],
        logger: silentLogger(),
        geoDisabled: true,
        healthDisabled: true,
        watchZones: false,
        admin: { host, port: 9153 },
        adminToken: token,
      }),
      (error: Error) => {
        assert.match(error.message, /not a loopback address/);
        assert.match(error.message, /MERIDIAN_ADMIN_TOKEN/);
        return true;
      },
      `admin on ${host} with token ${JSON.stringify(token)}`,
    );
  }

  const cli = await meridian(['serve', '--zones', dir, '--listen', '127.0.0.1:0', '--no-geo', '--no-health', '--admin', '192.0.2.1:9153'], null);
  assert.equal(cli.code, 1, `serve must refuse: ${cli.stderr}`);
  assert.match(cli.stderr, /MERIDIAN_ADMIN_TOKEN/);
  assert.doesNotMatch(cli.stdout, /admin HTTP on/);
});
