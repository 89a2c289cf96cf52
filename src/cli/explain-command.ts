/**
 * `meridian explain NAME [TYPE] --from IP|SUBNET`: which answer a client gets and why.
 * Live (`--admin HOST:PORT`, or by default when a server's admin answers on 127.0.0.1:9153 and no
 * offline input is named): the running server's /explain, so its overrides and rise/fall history count.
 * Offline (`--offline`, `--zones`, `--geoip` or `--no-health`, or no server reachable): loads the zones
 * and geo databases, runs one probe round for the members the name can use (as the server does before
 * answering), then asks explain/ — the same code the admin endpoint's /explain runs — and says so.
 */
import { parseArgs } from 'node:util';
import { formatListenAddress, parseListenAddress } from '../config/index.js';
import type { ServingState } from '../answer/index.js';
import { servingState } from '../authority/index.js';
import { explainAnswer, explainName, explainType, formatExplainReport, parseExplainClient, routedNodeOf } from '../explain/index.js';
import { geoFilesOrEmbedded, openGeoLocator, isKnownCountryCode, type GeoLocatorHandle } from '../geo/index.js';
import { ALL_MEMBERS_UP, HealthMonitor, probeKeyOf, type HealthView } from '../health/index.js';
import { mathRandom } from '../routing/index.js';
import { silentLogger } from '../telemetry/logger.js';
import { compileZones, formatDiagnostic, readZonePath, SerialKeeper, ZoneCatalog } from '../zones/index.js';
import { processOutput, type CommandOutput } from './command-output.js';

export async function runExplain(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      zones: { type: 'string' },
      geoip: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      'no-health': { type: 'boolean', default: false },
      admin: { type: 'string' },
      offline: { type: 'boolean', default: false },
    },
  });
  const [rawName, rawType = 'A'] = positionals;
  if (rawName === undefined || values.from === undefined || positionals.length > 2) {
    output.err('usage: meridian explain NAME [TYPE] --from IP|SUBNET [--admin HOST:PORT | --offline [--zones DIR] [--geoip FILE] [--no-health]] [--json]\n');
    return 2;
  }
  const name = explainName(rawName);
  let type: number;
  try {
    type = explainType(rawType);
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    parseExplainClient(values.from);
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }

  const offlineAsked = values.offline || values.zones !== undefined || values.geoip !== undefined || values['no-health'];
  if (values.admin !== undefined && offlineAsked) {
    output.err('meridian: --admin asks a running server; --offline, --zones, --geoip and --no-health read files instead: give one or the other\n');
    return 2;
  }
  if (!offlineAsked) {
    let admin: string;
    try {
      admin = formatListenAddress(parseListenAddress(values.admin ?? DEFAULT_ADMIN, '--admin'));
    } catch (error) {
      output.err(`meridian: ${(error as Error).message}\n`);
      return 2;
    }
    const live = await explainLive(admin, { name: rawName, type: rawType, from: values.from }, values.json!, values.admin !== undefined, output);
    if (live !== null) return live;
  }
  output.err(
    'meridian: offline explanation: zones and geo databases read from disk, members probed once now, without a running server\'s overrides or rise/fall history (--admin HOST:PORT asks a server)\n',
  );

  const loads = await readZonePath(values.zones ?? 'zones', { isKnownCountry: isKnownCountryCode });
  for (const load of loads) if (!load.ok) for (const d of load.diagnostics) output.err(`meridian: ${formatDiagnostic(d)} (file skipped)\n`);
  const catalog = new ZoneCatalog(compileZones(loads.flatMap((l) => (l.ok ? [l.source] : [])), new SerialKeeper(), probeKeyOf));
  const geo: GeoLocatorHandle = await openGeoLocator(geoFilesOrEmbedded(values.geoip), { logger: silentLogger(), watch: false });
  const monitor = new HealthMonitor({ logger: silentLogger() });
  try {
    // One probe round for the members this name can use (at the end of its in-zone CNAME chain,
    // else they would count as up without a probe), as the server runs before answering.
    const { zone, node } = routedNodeOf(catalog, name, type);
    let health: HealthView = monitor;
    if (!values['no-health'] && node?.routed) {
      const pools = node.routed.poolsByName;
      await monitor.setTargets(zone?.probeTargets.filter((target) => target.members.some((member) => pools.has(member.pool))) ?? []);
      await monitor.start();
    } else health = ALL_MEMBERS_UP;
    const serving: ServingState = servingState(catalog, { health, geo, random: mathRandom });
    const report = explainAnswer({ name, type: rawType, from: values.from }, { serving, snapshot: monitor.snapshot(), geo });
    output.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatExplainReport(report));
    return 0;
  } finally {
    await monitor.stop();
    await geo.close();
  }
}

const DEFAULT_ADMIN = '127.0.0.1:9153';

/**
 * The running server's own explanation from its admin endpoint (token from MERIDIAN_ADMIN_TOKEN).
 * Returns the exit code, or null when no server answers and none was asked for by name (then the
 * explanation is made offline).
 */
async function explainLive(
  admin: string,
  question: { name: string; type: string; from: string },
  json: boolean,
  required: boolean,
  output: CommandOutput,
): Promise<number | null> {
  const headers: Record<string, string> = {};
  const token = process.env.MERIDIAN_ADMIN_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  const url = `http://${admin}/explain?${new URLSearchParams(question).toString()}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(required ? 10_000 : 1000) });
  } catch (error) {
    if (!required) return null;
    output.err(`meridian: cannot reach the admin endpoint at ${admin} (is serve running with --admin ${admin}?): ${(error as Error).message}\n`);
    return 1;
  }
  const body = (await response.json().catch(() => null)) as { report?: unknown; text?: string; error?: string } | null;
  if (response.status === 404 && !required) return null;
  if (!response.ok || body === null || body.report === undefined || typeof body.text !== 'string') {
    output.err(`meridian: the admin endpoint at ${admin} answered ${response.status}: ${body?.error ?? 'no explanation'}\n`);
    return response.status === 400 ? 2 : 1;
  }
  output.err(`meridian: live explanation from the server at ${admin} (its health, overrides and rise/fall history)\n`);
  output.out(json ? `${JSON.stringify(body.report, null, 2)}\n` : body.text);
  return 0;
}
