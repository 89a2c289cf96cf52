/**
 * DNS round robin: every answer with several records of a type comes in a fresh random order;
 * a weighted pool honours weight, max_answers and enabled: false. The counts are bounded and
 * the margins generous (each bound is several standard deviations away from the expectation).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { query, type Address } from '../support/dns-client.js';
import { contractZone, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

// A pool that answers one member per query, chosen by weight 6:2:1:1, to see weights in counts.
const WEIGHTS_ZONE = `
zone: weights.test
soa: { mname: ns1.weights.test, rname: hostmaster.weights.test, serial: 1 }
records:
  "@": { NS: [ns1.weights.test] }
  ns1: { A: 192.0.2.1 }
  one: { pool: weighted }
  shuffled: { pool: even }
pools:
  weighted:
    max_answers: 1
    members:
      - { address: 203.0.113.1, weight: 6 }
      - { address: 203.0.113.2, weight: 2 }
      - { address: 203.0.113.3, weight: 1 }
      - { address: 203.0.113.4, weight: 1 }
      - { address: 203.0.113.5, weight: 9, enabled: false }
  even: { members: [203.0.113.10, 203.0.113.11, 203.0.113.12, 203.0.113.13] }
`;

let server: TestServer;
let udp: Address;

before(async () => {
  server = await startCoreServer({ zones: { 'example.test.yaml': contractZone(), 'weights.test.yaml': WEIGHTS_ZONE } });
  udp = server.v4;
});
after(() => server.close());

async function answers(name: string, type: string, count: number): Promise<string[][]> {
  const out: string[][] = [];
  // In parallel batches of 25: bounded, and fast.
  for (let done = 0; done < count; done += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - done) }, () => query(udp, name, type).then((res) => res.answer.map((r) => r.data))),
    );
    out.push(...batch);
  }
  return out;
}

test('static: 3 A records in more than one order over 50 queries, all 3 every time', async () => {
  const all = await answers('static.example.test', 'A', 50);
  for (const order of all) assert.deepEqual([...order].sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.12']);
  const orders = new Set(all.map((order) => order.join(',')));
  assert.ok(orders.size > 1, `only one order seen: ${[...orders].join(' | ')}`);
  // Each address leads sometimes: with 50 queries a never-first address has odds (2/3)^50.
  const firsts = new Set(all.map((order) => order[0]));
  assert.equal(firsts.size, 3);
});

test('static AAAA (2 records) and the records behind a CNAME are shuffled too', async () => {
  const aaaa = await answers('static.example.test', 'AAAA', 50);
  assert.equal(new Set(aaaa.map((o) => o.join(','))).size, 2);
  const viaAlias = await answers('alias.example.test', 'A', 50);
  for (const order of viaAlias) assert.equal(order[0], 'static.example.test.', 'the CNAME stays first');
  assert.ok(new Set(viaAlias.map((o) => o.slice(1).join(','))).size > 1);
});

test('an unweighted pool answers all members, shuffled', async () => {
  const all = await answers('shuffled.weights.test', 'A', 50);
  for (const order of all) assert.equal(order.length, 4);
  assert.ok(new Set(all.map((o) => o.join(','))).size > 5);
  const www = await answers('www.example.test', 'A', 50);
  assert.equal(new Set(www.map((o) => o.join(','))).size, 2, 'both orders of the geo default pool');
});

test('app (max_answers 2, weights 3:1, 127.0.6.3 disabled): at most 2 records, never the disabled one, the heavier first more often', async () => {
  const all = await answers('app.example.test', 'A', 300);
  const firsts = new Map<string, number>();
  for (const order of all) {
    assert.ok(order.length >= 1 && order.length <= 2, `${order.length} records`);
    assert.ok(!order.includes('127.0.6.3'), 'the disabled member is never answered');
    assert.equal(new Set(order).size, order.length, 'no repeats');
    for (const address of order) assert.ok(['127.0.6.1', '127.0.6.2'].includes(address));
    firsts.set(order[0]!, (firsts.get(order[0]!) ?? 0) + 1);
  }
  // With two enabled members and max_answers 2 every answer holds both, so weight shows in the
  // order: 127.0.6.1 (weight 3) is drawn first with probability 3/4 (expected 225 of 300, σ ≈ 7.5).
  const heavyFirst = firsts.get('127.0.6.1') ?? 0;
  assert.ok(heavyFirst > 170 && heavyFirst < 280, `127.0.6.1 first in ${heavyFirst} of 300`);
  assert.ok(heavyFirst > (firsts.get('127.0.6.2') ?? 0));
});

test('a weighted pool with max_answers 1: counts follow the weights 6:2:1:1, the disabled member never appears', async () => {
  const all = await answers('one.weights.test', 'A', 300);
  const counts = new Map<string, number>();
  for (const order of all) {
    assert.equal(order.length, 1);
    counts.set(order[0]!, (counts.get(order[0]!) ?? 0) + 1);
  }
  const count = (last: number): number => counts.get(`203.0.113.${last}`) ?? 0;
  assert.equal(count(5), 0, 'enabled: false is never answered');
  // Expected 180, 60, 30, 30 (σ ≈ 8.5, 6.9, 5.2, 5.2).
  assert.ok(count(1) > 130 && count(1) < 230, `heavy: ${count(1)}`);
  assert.ok(count(2) > 25 && count(2) < 100, `medium: ${count(2)}`);
  assert.ok(count(3) > 5 && count(3) < 65, `light: ${count(3)}`);
  assert.ok(count(4) > 5 && count(4) < 65, `light: ${count(4)}`);
  assert.ok(count(1) > count(2) && count(2) > Math.min(count(3), count(4)));
});

test("Node's resolver sees a round-robin answer as one complete set", async () => {
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${udp.port}`]);
  const app = await resolver.resolve4('app.example.test');
  assert.deepEqual([...app].sort(), ['127.0.6.1', '127.0.6.2']);
});
