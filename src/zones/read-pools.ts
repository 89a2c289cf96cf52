/**
 * zones/read-pools: the `pools:` section (members, weights, locations, the check each uses), and
 * the lists of pool names routed names and geo rules refer to.
 */
import { isIP } from 'node:net';
import { isMap, isScalar } from 'yaml';
import { addressBits } from '../wire/index.js';
import { didYouMean } from './diagnostic.js';
import { MEMBER_KEYS, POOL_KEYS } from './zone-schema.js';
import type { CheckSource, MemberSource, PoolSource } from './zone-source.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

export function readPools(reader: ZoneReader, node: AnyNode, checks: ReadonlyMap<string, CheckSource>): Map<string, PoolSource> {
  const pools = new Map<string, PoolSource>();
  const map = reader.map(node, 'pools');
  if (!map) return pools;
  for (const pair of map.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const spec = reader.map(reader.valueNode(pair), `pool "${name}"`);
    if (!spec) continue;
    const fields = reader.pairs(spec, POOL_KEYS, `pool "${name}"`);
    let check: string | null = null;
    if (fields.has('check')) {
      const checkName = reader.string(reader.valueNode(fields.get('check')), 'check');
      if (checkName !== undefined && !checks.has(checkName)) {
        reader.report(reader.valueNode(fields.get('check')), 'unknown-check', `unknown check "${checkName}"${didYouMean(checkName, checks.keys())}`);
      } else if (checkName !== undefined) check = checkName;
    }
    const maxAnswers = fields.has('max_answers') ? reader.integer(reader.valueNode(fields.get('max_answers')), 'max_answers', 1, 64) ?? null : null;
    let location: PoolSource['location'] = null;
    if (fields.has('location')) location = readLocation(reader, reader.valueNode(fields.get('location')));
    const members: MemberSource[] = [];
    let holds: PoolSource['holds'] = 'addresses';
    if (!fields.has('members')) reader.report(pair, 'missing-key', `pool "${name}" has no members`);
    else {
      const seen = new Set<string>();
      let first: { kind: MemberSource['kind']; shown: string; line: number } | null = null;
      for (const item of reader.list(reader.valueNode(fields.get('members')))) {
        const member = readMember(reader, item);
        if (!member) continue;
        const shown = member.kind === 'address' ? member.address : `${member.target}.`;
        if (first === null) first = { kind: member.kind, shown, line: reader.position(item).line };
        else if (member.kind !== first.kind) {
          reader.report(item, 'mixed-pool', `pool "${name}" holds ${first.kind === 'address' ? 'addresses' : 'names'} (${first.shown}, line ${first.line}), so ${shown} cannot join it: a pool holds addresses or names, not both`);
          continue;
        }
        if (seen.has(shown)) reader.report(item, 'duplicate-record', `member ${shown} is listed twice in pool "${name}"`);
        seen.add(shown);
        if (member.kind === 'name') reader.poolCnames.push({ pool: name, target: member.target, ...reader.position(item) });
        if (member.kind === 'name' && check !== null && member.probe === null) {
          reader.report(item, 'missing-key', `member ${shown} of pool "${name}" needs a probe address: the check "${check}" probes an address, and a name has none (write { cname: ${shown}, probe: ADDRESS })`);
        }
        members.push(member);
      }
      if (first?.kind === 'name') holds = 'names';
    }
    if (holds === 'names' && maxAnswers !== null) {
      reader.report(reader.valueNode(fields.get('max_answers')), 'bad-value', `max_answers applies to pools of addresses: pool "${name}" holds names and answers one CNAME`);
    }
    pools.set(name, { name, holds, check, maxAnswers, location, members });
  }
  return pools;
}

export function readLocation(reader: ZoneReader, node: AnyNode): PoolSource['location'] {
  const map = reader.map(node, 'location');
  if (!map) return null;
  const fields = reader.pairs(map, ['lat', 'lon'], 'location');
  const lat = reader.scalar(reader.valueNode(fields.get('lat')));
  const lon = reader.scalar(reader.valueNode(fields.get('lon')));
  if (typeof lat !== 'number' || lat < -90 || lat > 90) {
    reader.report(fields.get('lat') ?? map, 'bad-value', 'location needs lat, a number from -90 to 90');
    return null;
  }
  if (typeof lon !== 'number' || lon < -180 || lon > 180) {
    reader.report(fields.get('lon') ?? map, 'bad-value', 'location needs lon, a number from -180 to 180');
    return null;
  }
  return { lat, lon };
}

/**
 * One member: an address (`192.0.2.1`, `{ address, probe, weight, enabled }`) or a name
 * (`{ cname, probe, weight, enabled }`, or a plain string ending with a dot, `eu.cdn.example.net.`,
 * which no address does: unambiguous).
 */
export function readMember(reader: ZoneReader, node: AnyNode): MemberSource | undefined {
  if (isMap(node)) {
    const fields = reader.pairs(node, MEMBER_KEYS, 'member');
    if (fields.has('address') === fields.has('cname')) {
      reader.report(node, fields.has('address') ? 'bad-value' : 'missing-key', 'a member has an address or a cname (a name answered as a CNAME), one of the two');
      return undefined;
    }
    const probe = fields.has('probe') ? reader.address(reader.valueNode(fields.get('probe')), 'probe address') : undefined;
    const weight = fields.has('weight') ? reader.integer(reader.valueNode(fields.get('weight')), 'weight', 1, 65535) : 1;
    const enabledValue = fields.has('enabled') ? reader.scalar(reader.valueNode(fields.get('enabled'))) : true;
    if (typeof enabledValue !== 'boolean') reader.report(reader.valueNode(fields.get('enabled')), 'bad-type', 'enabled must be true or false');
    if (fields.has('cname')) {
      const target = reader.targetName(reader.valueNode(fields.get('cname')), 'cname');
      if (target === undefined || weight === undefined) return undefined;
      return { kind: 'name', target, probe: probe?.address ?? null, weight, enabled: enabledValue !== false };
    }
    const address = servableAddress(reader, reader.valueNode(fields.get('address')), 'member address');
    if (!address || weight === undefined) return undefined;
    return { kind: 'address', ...address, probe: probe?.address ?? null, weight, enabled: enabledValue !== false };
  }
  const raw = reader.scalar(node);
  if (typeof raw === 'string' && raw.endsWith('.') && isIP(raw.slice(0, -1)) === 0) {
    const target = reader.targetName(node, 'cname');
    return target === undefined ? undefined : { kind: 'name', target, probe: null, weight: 1, enabled: true };
  }
  const address = servableAddress(reader, node, 'member');
  return address ? { kind: 'address', ...address, probe: null, weight: 1, enabled: true } : undefined;
}

const IPV4_BROADCAST = 0xffffffffn;
const IPV4_MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96, the bits above the IPv4 address

/**
 * A member address a client can be sent to: the unspecified address (0.0.0.0, ::) and the
 * IPv4 broadcast address are refused; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) loads with
 * a warning, as an AAAA answer carrying it is rarely what was meant.
 */
function servableAddress(reader: ZoneReader, node: AnyNode, what: string): { address: string; family: 4 | 6 } | undefined {
  const address = reader.address(node, what);
  if (address === undefined) return undefined;
  const raw = String(reader.scalar(node));
  const bits = addressBits(address.address, address.family);
  if (bits === 0n) {
    reader.report(node, 'unusable-address', `${what} ${raw} is the unspecified address: no client can reach a server there`);
    return undefined;
  }
  if (address.family === 4 && bits === IPV4_BROADCAST) {
    reader.report(node, 'unusable-address', `${what} ${raw} is the broadcast address: no client can reach a server there`);
    return undefined;
  }
  if (address.family === 6 && bits >> 32n === IPV4_MAPPED_PREFIX) {
    const v4 = [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.');
    reader.warn(node, 'mapped-address', `${what} ${raw} is an IPv4-mapped IPv6 address, served in AAAA answers as an IPv6 address; write ${v4} to serve it in A answers`);
  }
  return address;
}

export function poolList(reader: ZoneReader, node: AnyNode, pools: ReadonlyMap<string, PoolSource>, what: string): string[] | undefined {
  const names: string[] = [];
  let ok = true;
  const items = reader.list(node);
  if (items.length === 0) {
    reader.report(node, 'bad-value', `${what} needs at least one pool`);
    return undefined;
  }
  for (const item of items) {
    const name = reader.string(item, 'a pool name');
    if (name === undefined) {
      ok = false;
      continue;
    }
    if (!pools.has(name)) {
      reader.report(item, 'unknown-pool', `unknown pool "${name}"${didYouMean(name, pools.keys())}`);
      ok = false;
      continue;
    }
    names.push(name);
  }
  return ok ? names : undefined;
}
