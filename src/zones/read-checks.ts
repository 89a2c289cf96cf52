/** zones/read-checks: the `checks:` section, health checks by name. */
import { isScalar } from 'yaml';
import { CHECK_SETTING_KEYS, PROBE_TYPES, probeTypeOf } from '../health/index.js';
import { CHECK_KEYS } from './zone-schema.js';
import type { CheckSource } from './zone-source.js';
import type { Quorum } from '../health/index.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

export function readChecks(reader: ZoneReader, node: AnyNode): Map<string, CheckSource> {
  const checks = new Map<string, CheckSource>();
  const map = reader.map(node, 'checks');
  if (!map) return checks;
  for (const pair of map.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const spec = reader.map(reader.valueNode(pair), `check "${name}"`);
    if (!spec) continue;
    const fields = reader.pairs(spec, CHECK_KEYS, `check "${name}"`);
    const probeType = fields.has('type') ? probeTypeOf(reader.scalar(reader.valueNode(fields.get('type')))) : undefined;
    if (probeType === undefined) {
      reader.report(fields.get('type') ?? pair, 'bad-value', `check "${name}" needs type: ${PROBE_TYPES.map((t) => t.name).join(', ')}`);
      continue;
    }
    const type = probeType.name as CheckSource['type'];
    if (!fields.has('port')) {
      reader.report(pair, 'missing-key', `check "${name}" needs a port`);
      continue;
    }
    const port = reader.integer(reader.valueNode(fields.get('port')), 'port', 1, 65535);
    const get = (key: string): AnyNode => reader.valueNode(fields.get(key));
    const expect: number[] = [];
    if (fields.has('expect')) {
      for (const item of reader.list(get('expect'))) {
        const code = reader.integer(item, 'expect (an HTTP status)', 100, 599);
        if (code !== undefined) expect.push(code);
      }
    } else expect.push(200);
    for (const key of CHECK_SETTING_KEYS) {
      if (!fields.has(key) || probeType.keys.includes(key)) continue;
      const readers = PROBE_TYPES.filter((t) => (t.keys as readonly string[]).includes(key)).map((t) => t.name);
      reader.report(fields.get(key), 'bad-value', `"${key}" applies to ${readers.join(' and ')} checks, not ${type}`);
    }
    let path = '/';
    if (fields.has('path')) {
      const raw = reader.string(get('path'), 'path');
      if (raw !== undefined && !raw.startsWith('/')) reader.report(get('path'), 'bad-value', 'path must start with "/"');
      else if (raw !== undefined) path = raw;
    }
    const verifyValue = fields.has('verify') ? reader.scalar(get('verify')) : true;
    if (typeof verifyValue !== 'boolean') reader.report(get('verify'), 'bad-type', 'verify must be true or false');
    const intervalMs = fields.has('interval') ? reader.millis(get('interval'), 'interval') : 10_000;
    const timeoutMs = fields.has('timeout') ? reader.millis(get('timeout'), 'timeout') : 2_000;
    if (intervalMs !== undefined && intervalMs < 1000) reader.report(get('interval'), 'bad-duration', 'interval must be at least 1s');
    if (intervalMs !== undefined && timeoutMs !== undefined && timeoutMs > intervalMs) {
      reader.report(get('timeout'), 'bad-duration', 'timeout must not be longer than interval');
    }
    const rise = fields.has('rise') ? reader.integer(get('rise'), 'rise', 1, 100) : 2;
    const fall = fields.has('fall') ? reader.integer(get('fall'), 'fall', 1, 100) : 3;
    const quorum = fields.has('quorum') ? readQuorum(reader, get('quorum')) : undefined;
    if (port === undefined || intervalMs === undefined || timeoutMs === undefined || rise === undefined || fall === undefined) continue;
    checks.set(name, {
      name,
      type,
      port,
      path,
      host: fields.has('host') ? reader.string(get('host'), 'host') : undefined,
      expect,
      body: fields.has('body') ? reader.string(get('body'), 'body') : undefined,
      verify: verifyValue !== false,
      intervalMs,
      timeoutMs,
      rise,
      fall,
      ...(quorum === undefined || quorum === null ? {} : { quorum }),
    });
  }
  return checks;
}

/**
 * `quorum: any | majority | all | N` (N from 1 to 64 instances); null after a diagnostic. Read alone too,
 * since it only matters in a fleet: a lone server ignores it, but a bad value is still reported.
 */
function readQuorum(reader: ZoneReader, node: AnyNode): Quorum | null {
  const value = reader.scalar(node);
  if (value === 'any' || value === 'majority' || value === 'all') return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64) return value;
  reader.report(node, 'bad-value', `quorum must be any, majority, all or a number of instances from 1 to 64, not ${JSON.stringify(value)}`);
  return null;
}
