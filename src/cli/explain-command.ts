/**
 * `meridian explain NAME [TYPE] --from IP|SUBNET`: which answer a client gets and why. Loads the
 * zones and geo databases, runs one probe round for the members the name can use (as the server
 * does before answering), then asks explain/ — the same code the admin endpoint's /explain runs
 * against a live server.
 */
import { parseArgs } from 'node:util';
import type { ServingState } from '../answer/index.js';
import { servingState } from '../authority/index.js';
import { explainAnswer, explainName, explainType, formatExplainReport, parseExplainClient, routedNodeOf } from '../explain/index.js';
import { embeddedGeoDatabasePath, openGeoLocator, isKnownCountryCode, type GeoLocatorHandle } from '../geo/index.js';
import { ALL_MEMBERS_UP, HealthMonitor, probeKeyOf, type HealthView } from '../health/index.js';
import { mathRandom } from '../routing/index.js';
import { silentLogger } from '../telemetry/logger.js';
import { compileZones, formatDiagnostic, readZonePath, SerialKeeper, ZoneCatalog } from '../zones/index.js';

export async function runExplain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      zones: { type: 'string', default: 'zones' },
      geoip: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      'no-health': { type: 'boolean', default: false },
    },
  });
  const [rawName, rawType = 'A'] = positionals;
  if (rawName === undefined || values.from === undefined || positionals.length > 2) {
    process.stderr.write('usage: meridian explain NAME [TYPE] --from IP|SUBNET [--zones DIR] [--geoip FILE] [--json] [--no-health]\n');
    return 2;
  }
  const name = explainName(rawName);
  let type: number;
  try {
    type = explainType(rawType);
  } catch (error) {
    process.stderr.write(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    parseExplainClient(values.from);
  } catch (error) {
    process.stderr.write(`meridian: ${(error as Error).message}\n`);
    return 2;
  }

  const loads = await readZonePath(values.zones!, { isKnownCountry: isKnownCountryCode });
  for (const load of loads) if (!load.ok) for (const d of load.diagnostics) process.stderr.write(`meridian: ${formatDiagnostic(d)} (file skipped)\n`);
  const catalog = new ZoneCatalog(compileZones(loads.flatMap((l) => (l.ok ? [l.source] : [])), new SerialKeeper(), probeKeyOf));
  const geoFiles = values.geoip?.length ? values.geoip : [embeddedGeoDatabasePath()];
  const geo: GeoLocatorHandle = await openGeoLocator(geoFiles, { logger: silentLogger(), watch: false });
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
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatExplainReport(report));
    return 0;
  } finally {
    await monitor.stop();
    await geo.close();
  }
}
