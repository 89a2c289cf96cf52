/**
 * SVCB (RFC 9460): `{ priority, target, ...params }`. Priority 0 is AliasMode (the target alone:
 * "go to that name instead"); 1 and up is ServiceMode, with the parameters `mandatory`, `alpn`,
 * `no-default-alpn`, `port`, `ipv4hint`, `ipv6hint` and `ech` beside the target ("." = the owner
 * itself). Checked as RFC 9460 §2.4 and §8 require of a zone file: AliasMode carries no parameters;
 * `mandatory` lists known keys, once each, never itself, each present in the record; `no-default-alpn`
 * needs `alpn`. HTTPS (https.ts) is the same record under another type code. Written by hand:
 * parameters in ascending key order, the target never compressed.
 */
import { encodeName, ipv4Text, ipv6Text, presentCharacterString, RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import { readBase64, targetOrRoot } from '../read-values.js';
import type { RecordType, YamlValue, ZoneValueReader } from '../record-type.js';

/** One SvcParam in wire form: its key and its value's bytes as lower-case hex. */
export interface SvcParam {
  key: number;
  value: string;
}

export interface SvcbData {
  priority: number;
  /** "" for the root ("." in the file). */
  target: string;
  /** In ascending key order. */
  params: readonly SvcParam[];
}

/** SvcParamKeys by presentation name (RFC 9460 §14.3.2). */
const PARAM_KEYS: Record<string, number> = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6 };
const KEY_NAMES = new Map(Object.entries(PARAM_KEYS).map(([name, key]) => [key, name]));
const KEYS = ['priority', 'target', ...Object.keys(PARAM_KEYS)];

function list(zone: ZoneValueReader, node: YamlValue, what: string): YamlValue[] | undefined {
  const items = zone.list(node);
  if (items.length === 0) {
    zone.report(node, 'bad-value', `${what} needs at least one value`);
    return undefined;
  }
  return items;
}

function u16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}

/** One parameter's value bytes from the file, or undefined after a diagnostic. */
function paramValue(zone: ZoneValueReader, name: string, node: YamlValue): Buffer | undefined {
  switch (name) {
    case 'alpn': {
      const ids = list(zone, node, 'alpn')?.map((item) => zone.string(item, 'an alpn protocol id'));
      if (ids === undefined || ids.includes(undefined)) return undefined;
      const bytes = (ids as string[]).map((id) => Buffer.from(id, 'utf8'));
      if (bytes.some((id) => id.length > 255)) {
        zone.report(node, 'bad-value', 'an alpn protocol id is 1 to 255 bytes');
        return undefined;
      }
      return Buffer.concat(bytes.flatMap((id) => [Buffer.from([id.length]), id]));
    }
    case 'no-default-alpn':
      if (zone.scalar(node) !== true) {
        zone.report(node, 'bad-value', 'no-default-alpn takes no value: write no-default-alpn: true, or leave it out');
        return undefined;
      }
      return Buffer.alloc(0);
    case 'port': {
      const port = zone.integer(node, 'port', 0, 65535);
      return port === undefined ? undefined : u16(port);
    }
    case 'ipv4hint':
    case 'ipv6hint': {
      const family = name === 'ipv4hint' ? 4 : 6;
      const parts: Buffer[] = [];
      for (const item of list(zone, node, name) ?? []) {
        const address = zone.address(item, `${name} value`);
        if (address === undefined) return undefined;
        if (address.family !== family) {
          zone.report(item, 'bad-address', `${address.address} is an IPv${address.family} address: put it under ipv${address.family}hint`);
          return undefined;
        }
        parts.push(addressBytes(address.address, family));
      }
      return parts.length === 0 ? undefined : Buffer.concat(parts);
    }
    case 'ech':
      return readBase64(zone, node, 'ech (an ECHConfigList)');
    default:
      return undefined; // mandatory is built from the other keys
  }
}

function addressBytes(address: string, family: 4 | 6): Buffer {
  return dns2Rdata(family === 4 ? RRType.A : RRType.AAAA, { address });
}

function readSvcb(typeName: string, node: YamlValue, zone: ZoneValueReader): SvcbData | undefined {
  const map = zone.map(node, `an ${typeName} record ({ priority, target, alpn, port, ... })`);
  if (!map) return undefined;
  const fields = zone.pairs(map, KEYS, typeName);
  if (!fields.has('priority') || !fields.has('target')) {
    zone.report(map, 'missing-key', `an ${typeName} record needs priority and target (priority 0: AliasMode, 1 and up: ServiceMode; target "." is the owner)`);
    return undefined;
  }
  const priority = zone.integer(zone.valueNode(fields.get('priority')), 'priority', 0, 65535);
  const target = targetOrRoot(zone, zone.valueNode(fields.get('target')), 'target');
  if (priority === undefined || target === undefined) return undefined;
  const paramNames = [...fields.keys()].filter((key) => key in PARAM_KEYS);
  // RFC 9460 §2.4.2: an AliasMode record only names where to go.
  if (priority === 0 && paramNames.length > 0) {
    zone.report(fields.get(paramNames[0]!), 'bad-value', `priority 0 is AliasMode, which takes only a target: remove ${paramNames.join(', ')} or give a priority of 1 or more (ServiceMode)`);
    return undefined;
  }
  const params: SvcParam[] = [];
  let ok = true;
  for (const name of paramNames) {
    if (name === 'mandatory') continue;
    const value = paramValue(zone, name, zone.valueNode(fields.get(name)));
    if (value === undefined) ok = false;
    else params.push({ key: PARAM_KEYS[name]!, value: value.toString('hex') });
  }
  // RFC 9460 §7.1.1: a record with no-default-alpn must list its protocols.
  if (fields.has('no-default-alpn') && !fields.has('alpn')) {
    zone.report(fields.get('no-default-alpn'), 'bad-value', 'no-default-alpn needs alpn beside it (RFC 9460 §7.1.1): which protocols does the service speak?');
    ok = false;
  }
  if (fields.has('mandatory')) {
    const mandatory = readMandatory(zone, zone.valueNode(fields.get('mandatory')), new Set(paramNames));
    if (mandatory === undefined) ok = false;
    else params.push({ key: PARAM_KEYS.mandatory!, value: Buffer.concat(mandatory.map(u16)).toString('hex') });
  }
  if (!ok) return undefined;
  params.sort((a, b) => a.key - b.key);
  return { priority, target, params };
}

/** RFC 9460 §8: the mandatory keys, in ascending order, or undefined after a diagnostic. */
function readMandatory(zone: ZoneValueReader, node: YamlValue, present: ReadonlySet<string>): number[] | undefined {
  const keys: number[] = [];
  for (const item of list(zone, node, 'mandatory') ?? []) {
    const name = zone.scalar(item);
    if (typeof name !== 'string' || !(name in PARAM_KEYS)) {
      zone.report(item, 'bad-value', `mandatory lists parameter names (${Object.keys(PARAM_KEYS).slice(1).join(', ')})`);
      return undefined;
    }
    if (name === 'mandatory') {
      zone.report(item, 'bad-value', 'mandatory cannot list itself (RFC 9460 §8)');
      return undefined;
    }
    if (keys.includes(PARAM_KEYS[name]!)) {
      zone.report(item, 'bad-value', `mandatory lists ${name} twice (RFC 9460 §8)`);
      return undefined;
    }
    if (!present.has(name)) {
      zone.report(item, 'bad-value', `mandatory lists ${name}, which this record does not have (RFC 9460 §8)`);
      return undefined;
    }
    keys.push(PARAM_KEYS[name]!);
  }
  return keys.length === 0 ? undefined : keys.sort((a, b) => a - b);
}

/** A parameter's value as dig prints it. */
function presentParam(key: number, value: Buffer): string {
  const name = KEY_NAMES.get(key) ?? `key${key}`;
  const chunks = (size: number): Buffer[] => Array.from({ length: value.length / size }, (_, i) => value.subarray(i * size, (i + 1) * size));
  switch (key) {
    case 0:
      return `${name}=${chunks(2).map((k) => KEY_NAMES.get(k.readUInt16BE(0)) ?? `key${k.readUInt16BE(0)}`).join(',')}`;
    case 1: {
      const ids: string[] = [];
      for (let at = 0; at < value.length; at += 1 + value[at]!) ids.push(value.subarray(at + 1, at + 1 + value[at]!).toString('latin1').replace(/[,\\]/g, (c) => `\\${c}`));
      // RFC 9460 §A.1: "," and "\" in an id are escaped in the list, and the list again as a <character-string>.
      for (let i = 0; i < ids.length; i++) ids[i] = ids[i]!.replace(/[\\"]/g, (c) => `\\${c}`);
      return `${name}="${ids.join(',')}"`;
    }
    case 2:
      return name;
    case 3:
      return `${name}=${value.readUInt16BE(0)}`;
    case 4:
      return `${name}=${chunks(4).map((address) => ipv4Text(address)).join(',')}`;
    case 5:
      return `${name}=${value.toString('base64')}`;
    case 6:
      return `${name}=${chunks(16).map((address) => ipv6Text(address)).join(',')}`;
    default:
      return `${name}=${presentCharacterString(value)}`;
  }
}

/** The SVCB record format under a type name and code (SVCB, HTTPS). */
export function serviceBindingType<Name extends 'SVCB' | 'HTTPS'>(name: Name, code: number, anyRank: number): RecordType<Name, SvcbData> {
  return {
    name,
    code,
    yaml: { read: (node, zone) => readSvcb(name, node, zone) },
    // RFC 9460 §2.4.2: with an AliasMode record in the set, clients ignore every ServiceMode record.
    checkRRset: (rdatas) =>
      rdatas.length > 1 && rdatas.some((rdata) => rdata.priority === 0)
        ? `an ${name} RRset with an AliasMode record (priority 0) holds that one record alone: clients ignore the others (RFC 9460 §2.4.2)`
        : undefined,
    encodeRdata(data) {
      const params = data.params.flatMap((param) => {
        const value = Buffer.from(param.value, 'hex');
        return [u16(param.key), u16(value.length), value];
      });
      return Buffer.concat([u16(data.priority), encodeName(data.target), ...params]);
    },
    // RFC 9460 §4.1: the target's addresses help the client; the root (the owner itself) adds none, as Knot answers.
    additionalName: (data) => data.target,
    anyRank,
    present(rdata) {
      const parts = [String(rdata.u16()), rdata.name()];
      while (rdata.remaining > 0) {
        const key = rdata.u16();
        parts.push(presentParam(key, rdata.bytes(rdata.u16())));
      }
      return parts.join(' ');
    },
  };
}

export const SVCB = serviceBindingType('SVCB', RRType.SVCB, 15);

