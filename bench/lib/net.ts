/**
 * A free port (UDP and TCP), the benchmark's queries (built with src/wire's codec), one-shot UDP
 * queries, and "wait until the server answers".
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { presentRData } from '../../src/records/index.js';
import { clientSubnetOption, decodeMessage, encodeQuery, RRType, type DecodedMessage } from '../../src/wire/index.js';

export interface BenchQueryOptions {
  id?: number;
  /** EDNS Client Subnet to attach (adds an OPT record) */
  ecs?: string;
  /** add an OPT record even without ECS */
  edns?: boolean;
  /** set the DO bit (adds an OPT record): DNSSEC signatures wanted */
  dnssecOk?: boolean;
}

/** A query as dnsperf sends its own: RD set (so the binary data files match), OPT only with ECS or when asked. */
export function benchQuery(name: string, type: string, options: BenchQueryOptions = {}): Buffer {
  const edns = options.edns === true || options.ecs !== undefined || options.dnssecOk === true ? { clientSubnet: options.ecs, do: options.dnssecOk === true } : null;
  return encodeQuery({ id: options.id, name, type, flags: { rd: true }, edns });
}

/** dnsperf's `-E code:value` argument for an ECS option. */
export function ecsDnsperfArgument(subnet: string): string {
  const option = clientSubnetOption(subnet);
  return `${option.code}:${option.data.toString('hex')}`;
}

/** The addresses of the A records in the answer section (any owner name), in wire order. */
export function answerAddresses(message: Buffer): string[] {
  return decodeMessage(message, presentRData).answer.filter((record) => record.typeCode === RRType.A).map((record) => record.data);
}

/** A port that is free for both UDP and TCP on `host` right now (the server binds both). */
export async function findFreePort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, host, () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error(`no free UDP+TCP port on ${host}`);
}

/** Send one UDP message and wait for the reply with the same ID. */
export async function udpExchange(host: string, port: number, message: Buffer, timeoutMs: number): Promise<{ response: DecodedMessage; bytes: Buffer }> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const id = message.readUInt16BE(0);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on('message', (bytes) => {
        if (bytes.length < 12 || bytes.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        try {
          resolve({ response: decodeMessage(bytes, presentRData), bytes });
        } catch (error) {
          reject(error as Error);
        }
      });
      socket.send(message, port, host);
    });
  } finally {
    socket.close();
  }
}

/** Poll with `probe` until any DNS answer arrives, the process dies or the deadline passes. */
export async function waitUntilAnswering(
  host: string,
  port: number,
  probe: Buffer,
  timeoutMs: number,
  isAlive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('server exited before answering');
    try {
      await udpExchange(host, port, probe, 250);
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server did not answer on ${host}:${port} within ${timeoutMs} ms (${String(lastError)})`);
}
