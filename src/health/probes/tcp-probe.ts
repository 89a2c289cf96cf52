/**
 * health/probes/tcp-probe: a check passes when a TCP connection to address:port completes.
 */
import { connect } from 'node:net';
import type { ProbeResult, ProbeTarget } from './probe.js';
import { elapsedMs, errorReason, hostPort } from './probe.js';
import { describeTypeAddressPort, type ProbeType } from './probe-type.js';

export type { ProbeResult } from './probe.js';

/** Connects to the target's address and check port; ok once the handshake completes, then closes. */
export function tcpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const { address, check } = target;
  const start = process.hrtime.bigint();
  return new Promise<ProbeResult>((resolve) => {
    if (signal.aborted) {
      resolve({ ok: false, latencyMs: 0, reason: 'aborted' });
      return;
    }
    let settled = false;
    const socket = connect({ host: address, port: check.port, ...(target.source === undefined ? {} : { localAddress: target.source }) });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('connect');
      // Keep an error listener: destroy() can still emit late errors, which would otherwise throw.
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, latencyMs: elapsedMs(start), reason: 'aborted' });
    // The deadline covers the whole connect, including SYN retransmissions the kernel would make.
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: elapsedMs(start), reason: `timeout after ${check.timeoutMs} ms` }),
      check.timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, latencyMs: elapsedMs(start) }));
    socket.once('error', (err) => finish({ ok: false, latencyMs: elapsedMs(start), reason: errorReason(err) }));
  });
}

/** `type: tcp`: the port accepts a connection. No settings besides the port. */
export const tcp: ProbeType<'tcp'> = {
  name: 'tcp',
  keys: [],
  probeKey: (address, check) => `tcp://${hostPort(address, check.port)}`,
  probe: tcpProbe,
  describe: describeTypeAddressPort,
};
