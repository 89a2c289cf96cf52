/**
 * Starts the real server in this process on loopback ports chosen at run time, with zones
 * written to a temporary folder. Every test registers `t.after(() => server.close())`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMeridian, UDP_IO_CHOICES, type RunningMeridian, type ServerOptions, type UdpIoChoice } from '../../src/server/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { useCompiledZoneParser } from './compiled-build.js';

export interface TestServer {
  running: RunningMeridian;
  /** UDP and TCP on 127.0.0.1 (same port). */
  v4: { host: string; port: number };
  /** UDP and TCP on ::1 (same port). */
  v6: { host: string; port: number };
  zonesDir: string;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<ServerOptions, 'zonesPath' | 'listen' | 'logger'>> {
  /** File name → YAML text, written into a fresh zones folder. */
  zones: Record<string, string>;
  logger?: ServerOptions['logger'];
}

/** MERIDIAN_TEST_IO, checked: a misspelt value must not quietly test the default. */
function testIo(): UdpIoChoice {
  const asked = process.env.MERIDIAN_TEST_IO ?? 'auto';
  if (!(UDP_IO_CHOICES as readonly string[]).includes(asked)) throw new Error(`MERIDIAN_TEST_IO must be one of ${UDP_IO_CHOICES.join(', ')}, not "${asked}"`);
  return asked as UdpIoChoice;
}

/** Starts Meridian on 127.0.0.1:0 and [::1]:0 serving the given zone files. Geo is off unless geoipFiles are given. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  useCompiledZoneParser();
  const zonesDir = await mkdtemp(join(tmpdir(), 'meridian-zones-'));
  for (const [name, text] of Object.entries(options.zones)) await writeFile(join(zonesDir, name), text);
  const { zones: _zones, ...rest } = options;
  const running = await startMeridian({
    geoDisabled: !options.geoipFiles?.length,
    // The server's default (auto: batched where the native module is built); MERIDIAN_TEST_IO=dgram
    // runs the end-to-end tests over node:dgram, =batched insists on the module.
    io: testIo(),
    ...rest,
    zonesPath: zonesDir,
    listen: [
      { host: '127.0.0.1', port: 0 },
      { host: '::1', port: 0 },
    ],
    logger: options.logger ?? silentLogger(),
  });
  const [v4, v6] = running.addresses;
  return {
    running,
    v4: v4!,
    v6: v6!,
    zonesDir,
    async close() {
      await running.close();
      await rm(zonesDir, { recursive: true, force: true });
    },
  };
}
