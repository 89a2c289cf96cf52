import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startBlackholeTcpTarget,
  startHttpTarget,
  startHttpsTarget,
  startTcpTarget,
} from '../../test/support/probe-targets.js';
import type { CheckSpec } from './check-spec.js';
import type { ProbeResult } from './probes/index.js';
import { httpProbe, runProbe, tcpProbe } from './probes/index.js';

function spec(overrides: Partial<CheckSpec>): CheckSpec {
  return {
    type: 'http',
    port: 0,
    path: '/healthz',
    expect: [200],
    verify: true,
    intervalMs: 1000,
    timeoutMs: 1000,
    rise: 1,
    fall: 1,
    ...overrides,
  };
}

const never = new AbortController().signal;

function failed(result: ProbeResult): string {
  assert.equal(result.ok, false, 'probe should fail');
  return result.ok ? '' : result.reason;
}

test('tcp: connect succeeds, then refused once the listener stops', async () => {
  const target = await startTcpTarget({ address: '127.0.7.1' });
  try {
    const check = spec({ type: 'tcp', port: target.port });
    const up = await tcpProbe({ address: target.address, check }, never);
    assert.equal(up.ok, true);
    assert.ok(up.latencyMs >= 0 && up.latencyMs < 1000);
    await target.stop();
    const down = await tcpProbe({ address: target.address, check }, never);
    assert.equal(failed(down), 'connect ECONNREFUSED');
  } finally {
    await target.stop();
  }
});

test('tcp: a connect that gets no SYN-ACK is cut off at the timeout', async () => {
  const hole = await startBlackholeTcpTarget('127.0.7.2');
  try {
    const started = Date.now();
    const result = await tcpProbe({ address: hole.address, check: spec({ type: 'tcp', port: hole.port, timeoutMs: 300 }) }, never);
    const took = Date.now() - started;
    assert.equal(failed(result), 'timeout after 300 ms');
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  } finally {
    await hole.stop();
  }
});

test('http: 200 passes; refused, 503, accepted list', async () => {
  const target = await startHttpTarget({ address: '127.0.7.3' });
  try {
    const check = spec({ port: target.port });
    assert.equal((await httpProbe({ address: target.address, check }, never)).ok, true);
    assert.equal(target.requests.at(-1)?.path, '/healthz');
    // Without `host`, the Host header is the probed address and port.
    assert.equal(target.requests.at(-1)?.host, `127.0.7.3:${target.port}`);

    target.setStatus(503);
    assert.equal(failed(await httpProbe({ address: target.address, check }, never)), 'HTTP 503');
    const lenient = spec({ port: target.port, expect: [200, 503] });
    assert.equal((await httpProbe({ address: target.address, check: lenient }, never)).ok, true);

    await target.stop();
    assert.equal(failed(await httpProbe({ address: target.address, check }, never)), 'connect ECONNREFUSED');
  } finally {
    await target.stop();
  }
});

test('http: body substring, host header, 64 KiB cap', async () => {
  const target = await startHttpTarget({ address: '127.0.7.4', body: 'status: healthy\n' });
  try {
    const check = spec({ port: target.port, body: 'healthy', host: 'www.example.test' });
    assert.equal((await httpProbe({ address: target.address, check }, never)).ok, true);
    assert.equal(target.requests.at(-1)?.host, 'www.example.test');

    target.setBody('status: degraded\n');
    assert.equal(failed(await httpProbe({ address: target.address, check }, never)), 'body mismatch');

    // The substring beyond the first 64 KiB does not count.
    target.setBody(`${'x'.repeat(100 * 1024)}healthy`);
    assert.equal(failed(await httpProbe({ address: target.address, check }, never)), 'body mismatch');
    target.setBody(`healthy${'x'.repeat(100 * 1024)}`);
    assert.equal((await httpProbe({ address: target.address, check }, never)).ok, true);
  } finally {
    await target.stop();
  }
});

test('http: a server that accepts but never answers is cut off at the timeout', async () => {
  const target = await startHttpTarget({ address: '127.0.7.5' });
  try {
    target.setHang(true);
    const started = Date.now();
    const result = await httpProbe({ address: target.address, check: spec({ port: target.port, timeoutMs: 300 }) }, never);
    const took = Date.now() - started;
    assert.equal(failed(result), 'timeout after 300 ms');
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  } finally {
    await target.stop();
  }
});

test('http: an abort ends the probe at once', async () => {
  const target = await startHttpTarget({ address: '127.0.7.6' });
  try {
    target.setHang(true);
    const abort = new AbortController();
    const pending = httpProbe({ address: target.address, check: spec({ port: target.port, timeoutMs: 5000 }) }, abort.signal);
    setTimeout(() => abort.abort(), 50);
    const started = Date.now();
    assert.equal(failed(await pending), 'aborted');
    assert.ok(Date.now() - started < 1000);
  } finally {
    await target.stop();
  }
});

test('https: verify:false accepts a self-signed certificate, verify:true rejects it', async () => {
  const target = await startHttpsTarget({ address: '127.0.0.1', body: 'fine' });
  try {
    const lax = spec({ type: 'https', port: target.port, verify: false, body: 'fine' });
    assert.equal((await runProbe({ address: target.address, check: lax }, never)).ok, true);
    const strict = spec({ type: 'https', port: target.port, verify: true });
    const reason = failed(await runProbe({ address: target.address, check: strict }, never));
    assert.match(reason, /^tls (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/);
  } finally {
    await target.stop();
  }
});

test('http: restart on the same address and port answers again', async () => {
  const target = await startHttpTarget({ address: '127.0.7.7' });
  try {
    const check = spec({ port: target.port });
    await target.stop();
    assert.equal((await httpProbe({ address: target.address, check }, never)).ok, false);
    await target.restart();
    assert.equal((await httpProbe({ address: target.address, check }, never)).ok, true);
  } finally {
    await target.stop();
  }
});
