/**
 * test/support/nats-server: a real `nats-server` with JetStream for the fleet tests, on a free
 * loopback port with its store in a temporary folder; one node or a cluster of several. It never
 * touches the system service on 4222. A node can be killed and started again on the same ports and
 * store, as an operator's restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 10_000;

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly running: boolean;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port and store; resolves once it accepts clients. */
  start(): Promise<void>;
}

export interface NatsEngine {
  readonly nodes: readonly NatsNode[];
  /** Every node's URL, comma-separated: the value of --fleet. */
  readonly urls: string;
  /** Stops every node and removes the store. */
  stop(): Promise<void>;
}

/** The binary: on PATH, or where Debian's package puts it. */
export function natsServerBinary(): string {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'nats-server';
}

import { freePort } from './free-port.js';

export { freePort };

/**
 * Starts `size` nodes (1: a lone server; more: a cluster routed to each other) and waits until each
 * accepts clients; `extraArgs` go to every node (`--auth TOKEN`, say). The caller stops it (t.after).
 */
export async function startNats(size = 1, extraArgs: readonly string[] = []): Promise<NatsEngine> {
  const store = await mkdtemp(join(tmpdir(), 'meridian-nats-'));
  const ports: number[] = [];
  const clusterPorts: number[] = [];
  for (let index = 0; index < size; index++) {
    ports.push(await freePort());
    if (size > 1) clusterPorts.push(await freePort());
  }
  const routes = clusterPorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  const nodes = ports.map((port, index) => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(store, `n${index + 1}`), '--server_name', `n${index + 1}`, ...extraArgs];
    if (size > 1) args.push('--cluster_name', 'meridian-test', '--cluster', `nats://127.0.0.1:${clusterPorts[index]}`, '--routes', routes);
    return new Node(`n${index + 1}`, port, args);
  });
  const engine: NatsEngine = {
    nodes,
    urls: nodes.map((node) => node.url).join(','),
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()));
      await rm(store, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}

class Node implements NatsNode {
  #child: ChildProcess | null = null;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  start(): Promise<void> {
    if (this.#child !== null) return Promise.resolve();
    const child = spawn(natsServerBinary(), this.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    let output = '';
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`nats-server ${this.name} on port ${this.port}: ${why}\n${output.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      child.once('error', (error) => fail(error.message));
      child.once('exit', (code, signal) => {
        if (this.#child === child) this.#child = null;
        fail(`exited (${code ?? signal}) before it was ready`);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (output.length < 100_000) output += chunk.toString('utf8');
        // "Server is ready" follows the client listener; in a cluster, JetStream is usable once
        // the meta leader is known, which the tests wait for through their own first KV operation.
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.once('exit', () => {
            if (this.#child === child) this.#child = null;
          });
          child.stderr!.removeAllListeners('data');
          child.stderr!.resume();
          resolve();
        }
      });
    });
  }

  kill(): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) {
      this.#child = null;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
