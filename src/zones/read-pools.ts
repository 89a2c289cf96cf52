/**
 * zones/read-pools: the `pools:` section (members, weights, locations, the check each uses), and
 * the lists of pool names routed names and geo rules refer to.
 */
import { isMap, isScalar } from 'yaml';
import { addressBits } from './addresses.js';
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
    if (!fields.has('members')) reader.report(pair, 'missing-key', `pool "${name}" has no members`);
    else {
      const seen = new Set<string>();
      for (const item of reader.list(reader.valueNode(fields.get('members')))) {
        const member = readMember(reader, item);
        if (!member) continue;
        if (seen.has(member.address)) reader.report(item, 'duplicate-record', `member ${member.address} is listed twice in pool "${name}"`);
        seen.add(member.address);
        members.push(member);
      }
    }
    pools.set(name, { name, check, maxAnswers, location, members });
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

export function readMember(reader: ZoneReader, node: AnyNode): MemberSource | undefined {
  if (isMap(node)) {
    const fields = reader.pairs(node, MEMBER_KEYS, 'member');
    if (!fields.has('address')) {
      reader.report(node, 'missing-key', 'a member needs an address');
      return undefined;
    }
    const address = servableAddress(reader, reader.valueNode(fields.get('address')), 'member address');
    const probe = fields.has('probe') ? reader.address(reader.valueNode(fields.get('probe')), 'probe address') : undefined;
    const weight = fields.has('weight') ? reader.integer(reader.valueNode(fields.get('weight')), 'weight', 1, 65535) : 1;
    const enabledValue = fields.has('enabled') ? reader.scalar(reader.valueNode(fields.get('enabled'))) : true;
    if (typeof enabledValue !== 'boolean') reader.report(reader.valueNode(fields.get('enabled')), 'bad-type', 'enabled must be true or false');
    if (!address || weight === undefined) return undefined;
    return { ...address, probe: probe?.address ?? null, weight, enabled: enabledValue !== false };
  }
  const address = servableAddress(reader, node, 'member');
  return address ? { ...address, probe: null, weight: 1, enabled: true } : undefined;
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
