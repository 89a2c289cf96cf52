/**
 * Issue 18, the Grafana dashboard: deploy/grafana/meridian.json is importable as is (a `datasource`
 * variable that every panel and query uses, unique panel ids, a layout) and every metric it queries
 * is one a real Meridian exports at /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { query } from '../support/dns-client.js';
import { repoRoot, waitFor } from '../support/e2e.js';
import { httpGroup } from '../support/probe-targets.js';
import { startTestServer } from '../support/start-test-server.js';

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; datasource?: { uid?: string } }[] };
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(join(repoRoot, 'deploy', 'grafana', 'meridian.json'), 'utf8')) as Dashboard;
}

function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** The metric names a PromQL expression reads (histogram series mapped to their family). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\bmeridian_[a-z0-9_]+\b/g)].map((match) => match[0]);
}

test('the dashboard imports as is: a Prometheus `datasource` variable used by every panel and query, unique ids, every panel placed', async () => {
  const board = await dashboard();
  assert.equal(board.uid, 'meridian-dns');
  const variable = board.templating.list.find((v) => v.name === 'datasource');
  assert.ok(variable, 'a datasource variable');
  assert.equal(variable.type, 'datasource');
  assert.equal(variable.query, 'prometheus');
  const panels = allPanels(board.panels);
  assert.equal(new Set(panels.map((panel) => panel.id)).size, panels.length, 'panel ids are unique');
  const queried = panels.filter((panel) => panel.type !== 'row');
  assert.ok(queried.length >= 15, `${queried.length} panels`);
  for (const panel of panels) assert.ok(panel.gridPos, `${panel.title} has a place`);
  for (const panel of queried) {
    assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title} uses the datasource variable`);
    assert.ok(panel.targets?.length, `${panel.title} has queries`);
    for (const target of panel.targets!) {
      assert.equal(target.datasource?.uid, '${datasource}', `${panel.title}: ${target.expr}`);
      assert.ok(metricsOf(target.expr ?? '').length > 0, `${panel.title} queries a Meridian metric: ${target.expr}`);
    }
  }
  for (const v of board.templating.list.filter((v) => v.type === 'query')) assert.equal(v.datasource?.uid, '${datasource}', v.name);
  // What the issue asks the dashboard to show.
  const exprs = queried.flatMap((panel) => panel.targets!.map((target) => target.expr!)).join('\n');
  for (const wanted of [
    /sum by \(zone\) \(rate\(meridian_dns_queries_total/,
    /sum by \(rcode\) \(rate\(meridian_dns_queries_total/,
    /sum by \(outcome\) \(rate\(meridian_dns_routed_answers_total/,
    /meridian_dns_ecs_queries_total.*\/.*meridian_dns_queries_total/,
    /meridian_health_member_up/,
    /meridian_health_probe_duration_seconds_bucket/,
    /meridian_zone_reloads_total/,
    /meridian_dns_dropped_packets_total/,
    /meridian_dns_truncated_total/,
    /meridian_nodejs_eventloop_lag/,
  ]) {
    assert.match(exprs, wanted);
  }
});

test('every metric the dashboard queries exists in /metrics of a running server', async (t) => {
  const group = await httpGroup(t, ['127.18.9.1']);
  const server = await startTestServer({
    zones: {
      'example.test.yaml': `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 1 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www: { pool: web }
pools:
  web: { check: web, members: [127.18.9.1] }
checks:
  web: { type: http, port: ${group.port}, interval: 1s, timeout: 500ms }
`,
    },
    admin: { host: '127.0.0.1', port: 0 },
  });
  t.after(() => server.close());
  await query(server.v4, 'www.example.test', 'A', { edns: { clientSubnet: '192.0.2.0/24' } });
  const admin = server.running.adminAddress!;
  const text = await waitFor('a probe duration in /metrics', async () => {
    const body = await (await fetch(`http://${admin.host}:${admin.port}/metrics`)).text();
    return body.includes('meridian_health_probe_duration_seconds_bucket{') ? body : undefined;
  }, 10_000);
  // Every sample name written, and every family with a TYPE line (a counter may have no sample yet).
  const exported = new Set<string>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) /.exec(line);
    if (typed) exported.add(typed[1]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) exported.add(sample[1]!);
  }
  const queried = new Set(allPanels((await dashboard()).panels).flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricsOf(target.expr ?? ''))));
  const templated = (await dashboard()).templating.list.flatMap((v) => metricsOf(JSON.stringify(v.query)));
  // The fleet's metrics exist only with --fleet: test/e2e/fleet-status-page.test.ts checks them on a fleet instance.
  const missing = [...queried, ...templated].filter((name) => !exported.has(name) && !name.startsWith('meridian_fleet_'));
  assert.deepEqual(missing, [], 'metrics the dashboard queries but /metrics does not export');
  assert.ok(queried.size >= 15, `${queried.size} metrics queried`);
});
