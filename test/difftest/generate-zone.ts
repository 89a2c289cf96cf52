/**
 * Seeded random static zones, written twice: as a Meridian YAML file and as an RFC 1035 master
 * file for Knot and NSD, with the questions to ask both. The same seed always gives the same zone
 * and questions, so any difference can be replayed from its seed alone.
 */
import { seededRandom } from '../../src/routing/index.js';

export interface Question {
  /** The name as sent, in mixed case. */
  name: string;
  type: string;
  /** What the name is in the zone ("at cname", "below delegation", ...): groups differences. */
  what: string;
}

export interface GeneratedZone {
  seed: number;
  /** Lower case, no final dot. */
  origin: string;
  yaml: string;
  masterFile: string;
  questions: Question[];
}

type Kind = 'data' | 'cname' | 'delegation' | 'glue' | 'apex';

type Rdata =
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'TXT'; text: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'CNAME' | 'NS'; target: string }
  | { type: 'CAA'; flags: number; tag: string; value: string };

interface Entry {
  name: string;
  kind: Kind;
  ttl: number;
  records: Rdata[];
}

const LABELS = ['a', 'b', 'c', 'www', 'mail', 'api', 'x', 'sub', '_tcp', '_sip', 'deep', 'n1'];
const TTLS = [60, 300, 3600];
const OUTSIDE = ['www.example.org', 'mail.example.net', 'target.example.com'];
/** Asked at every name of the zone. */
const TYPES_AT = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'CNAME', 'NS', 'SOA', 'DS', 'CAA', 'PTR', 'ANY'];
/** Asked at the names around them (mostly absent). */
const TYPES_AROUND = ['A', 'AAAA', 'TXT', 'CNAME', 'NS', 'DS'];

export interface GenerateOptions {
  /** Add wildcards (RFC 4592) from a generator of their own, so the rest of the zone is the seed's usual one. */
  wildcards?: boolean;
}

export function generateZone(seed: number, options: GenerateOptions = {}): GeneratedZone {
  const source = seededRandom(seed);
  const random = (): number => source.next();
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number): boolean => random() < p;

  const origin = `s${seed}.difftest`;
  const entries = new Map<string, Entry>();
  const relative = (labels: number): string => Array.from({ length: labels }, () => pick(LABELS)).join('.');
  const add = (name: string, kind: Kind): Entry | undefined => {
    if (entries.has(name)) return undefined;
    const entry: Entry = { name, kind, ttl: pick(TTLS), records: [] };
    entries.set(name, entry);
    return entry;
  };
  const address4 = (): string => `192.0.2.${int(1, 254)}`;
  const address6 = (): string => `2001:db8::${int(1, 0xffff).toString(16)}`;
  const text = (): string => Array.from({ length: int(1, 24) }, () => pick([...'abcdefghijklmnopqrstuvwxyz0123456789 =-'])).join('').trim() || 'x';

  const apex = add(origin, 'apex')!;
  apex.records.push({ type: 'NS', target: `ns1.${origin}` }, { type: 'NS', target: pick(OUTSIDE) });
  add(`ns1.${origin}`, 'data')!.records.push({ type: 'A', address: address4() });

  const count = int(8, 16);
  for (let i = 0; i < count; i++) {
    const roll = random();
    const kind: Kind = roll < 0.25 ? 'cname' : roll < 0.37 ? 'delegation' : 'data';
    add(`${relative(kind === 'delegation' ? int(1, 2) : int(1, 3))}.${origin}`, kind);
  }
  // A chain of CNAMEs, sometimes longer than the five an answer follows.
  if (chance(0.5)) {
    const length = int(3, 7);
    for (let i = 0; i < length; i++) add(`chain${i}.${origin}`, 'cname')?.records.push({ type: 'CNAME', target: `chain${i + 1}.${origin}` });
    if (chance(0.7)) add(`chain${length}.${origin}`, 'data');
  }

  const dataTypes = ['A', 'AAAA', 'TXT', 'MX', 'SRV'] as const;
  const someTarget = (): string => {
    const names = [...entries.keys()];
    return chance(0.3) ? pick(OUTSIDE) : chance(0.2) ? `nothing.${pick(names)}` : pick(names);
  };
  const fill = (entry: Entry): void => {
    for (const type of dataTypes) {
      if (!chance(type === 'A' ? 0.6 : 0.35)) continue;
      for (let i = int(1, 2); i > 0; i--) {
        if (type === 'A') entry.records.push({ type, address: address4() });
        else if (type === 'AAAA') entry.records.push({ type, address: address6() });
        else if (type === 'TXT') entry.records.push({ type, text: text() });
        else if (type === 'MX') entry.records.push({ type, preference: int(0, 50), exchange: someTarget() });
        else entry.records.push({ type, priority: int(0, 20), weight: int(0, 20), port: int(1, 65535), target: someTarget() });
      }
    }
    if (entry.records.length === 0) entry.records.push({ type: 'A', address: address4() });
  };

  for (const entry of [...entries.values()]) {
    if (entry.kind === 'data' && entry.records.length === 0) fill(entry);
    if (entry.kind === 'apex' && chance(0.6)) fill(entry);
    if (entry.kind === 'delegation') {
      for (let i = int(1, 2); i > 0; i--) {
        const where = random();
        if (where < 0.6) {
          const glue = add(`ns${i}.${entry.name}`, 'glue');
          glue?.records.push({ type: 'A', address: address4() });
          if (glue && chance(0.3)) glue.records.push({ type: 'AAAA', address: address6() });
          entry.records.push({ type: 'NS', target: `ns${i}.${entry.name}` });
        } else entry.records.push({ type: 'NS', target: where < 0.8 ? `ns1.${origin}` : `ns${i}.example.net` });
      }
      entry.records = dedupe(entry.records);
    }
  }
  for (const entry of entries.values()) {
    if (entry.kind === 'cname' && entry.records.length === 0) {
      const names = [...entries.keys()];
      // Cuts and glue are few among the names: aim at them on purpose, they are where answers go wrong.
      const nearCuts = [...entries.values()].filter((e) => e.kind === 'delegation' || e.kind === 'glue').map((e) => e.name);
      const roll = random();
      const target =
        roll < 0.2 && nearCuts.length > 0 ? pick(nearCuts) : roll < 0.6 ? pick(names) : roll < 0.75 ? `missing.${pick(names)}` : roll < 0.9 ? pick(OUTSIDE) : origin;
      entry.records.push({ type: 'CNAME', target });
    }
  }
  breakLoops(entries, origin);
  addAwkwardData(seed, entries);
  if (options.wildcards) addWildcards(seed, entries, origin);
  for (const entry of entries.values()) entry.records = dedupe(entry.records);

  const soa = { ttl: pick(TTLS), minimum: pick([30, 60, 900, 7200]), serial: (seed % 1_000_000) + 1 };
  return {
    seed,
    origin,
    yaml: toYaml(origin, soa, entries),
    masterFile: toMasterFile(origin, soa, entries),
    questions: questionsFor(origin, entries, random),
  };
}

/**
 * Text that needs escaping or splitting (quotes, backslashes, UTF-8, more than 255 bytes) and CAA
 * records, drawn from a second generator so the zone's shape for a seed stays what it was.
 */
function addAwkwardData(seed: number, entries: ReadonlyMap<string, Entry>): void {
  const source = seededRandom(seed ^ 0x5eed5eed);
  const random = (): number => source.next();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const awkward = ['say "hi"', 'back\\slash', 'semi;colon', 'café ünïcode', '(paren) $dollar @at', 'x'.repeat(254) + 'é', 'long '.repeat(70)];
  for (const entry of entries.values()) {
    if (entry.kind !== 'data' && entry.kind !== 'apex') continue;
    for (const record of entry.records) {
      if (record.type === 'TXT' && random() < 0.4) record.text = pick(awkward);
    }
    if (random() < 0.2) {
      entry.records.push({ type: 'CAA', flags: pick([0, 128]), tag: pick(['issue', 'issuewild', 'iodef']), value: pick(['letsencrypt.org', 'ca.example.net; account=42', 'mailto:security@example.org', '']) });
    }
  }
}

/**
 * One to three wildcards: at the apex, at an existing name, at an empty non-terminal or below a cut
 * (occluded), holding addresses, text, MX, or a CNAME to a name with data (never to a CNAME or a
 * missing name, which could loop back through a wildcard: Meridian rejects such zones).
 */
function addWildcards(seed: number, entries: Map<string, Entry>, origin: string): void {
  const source = seededRandom(seed ^ 0x2a2a2a2a);
  const random = (): number => source.next();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const names = [...entries.keys()];
  const parents = new Set<string>([origin]);
  for (const name of names) for (let at = name; at !== origin; at = at.slice(at.indexOf('.') + 1)) parents.add(at);
  const dataNames = [...entries.values()].filter((e) => e.kind === 'data' || e.kind === 'apex').map((e) => e.name);
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const parent = pick([origin, ...parents]);
    const name = `*.${parent}`;
    if (entries.has(name)) continue;
    const entry: Entry = { name, kind: 'data', ttl: pick(TTLS), records: [] };
    const roll = random();
    if (roll < 0.3 && dataNames.length > 0) entry.records.push({ type: 'CNAME', target: pick(dataNames) });
    else {
      entry.records.push({ type: 'A', address: `198.51.100.${1 + Math.floor(random() * 250)}` });
      if (random() < 0.5) entry.records.push({ type: 'TXT', text: `wildcard ${i}` });
      if (random() < 0.3) entry.records.push({ type: 'MX', preference: 10, exchange: pick(dataNames.length > 0 ? dataNames : [origin]) });
    }
    entries.set(name, entry);
  }
}

/** Meridian rejects in-zone CNAME loops (`cname-loop`), so a loop the dice made is sent elsewhere. */
function breakLoops(entries: Map<string, Entry>, origin: string): void {
  const targetOf = (name: string): string | undefined => {
    const record = entries.get(name)?.records.find((r) => r.type === 'CNAME');
    return record?.type === 'CNAME' ? record.target : undefined;
  };
  for (const start of entries.keys()) {
    const seen = new Set<string>();
    for (let name: string | undefined = start; name !== undefined; name = targetOf(name)) {
      if (seen.has(name)) {
        entries.get(name)!.records = [{ type: 'CNAME', target: `loop-broken.${origin}` }];
        break;
      }
      seen.add(name);
    }
  }
}

function dedupe(records: Rdata[]): Rdata[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    const key = JSON.stringify(record);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Soa {
  ttl: number;
  minimum: number;
  serial: number;
}

function yamlValue(record: Rdata): unknown {
  switch (record.type) {
    case 'TXT':
      return record.text;
    case 'CAA':
      return { flags: record.flags, tag: record.tag, value: record.value };
    case 'MX':
      return { preference: record.preference, exchange: `${record.exchange}.` };
    case 'SRV':
      return { priority: record.priority, weight: record.weight, port: record.port, target: `${record.target}.` };
    default:
      return presentation(record); // an address, or an absolute name
  }
}

/** JSON is YAML flow syntax: every value quoted as JSON quotes it, targets absolute (final dot). */
function toYaml(origin: string, soa: Soa, entries: ReadonlyMap<string, Entry>): string {
  const lines = [
    `zone: ${origin}`,
    'ttl: 300',
    `soa: { mname: ns1.${origin}., rname: hostmaster.${origin}., serial: ${soa.serial}, refresh: 7200, retry: 900, expire: 1209600, minimum: ${soa.minimum}, ttl: ${soa.ttl} }`,
    'records:',
  ];
  for (const entry of entries.values()) {
    if (entry.records.length === 0) continue;
    const owner = entry.name === origin ? '@' : entry.name.slice(0, -origin.length - 1);
    const byType = new Map<string, unknown[]>();
    for (const record of entry.records) byType.set(record.type, [...(byType.get(record.type) ?? []), yamlValue(record)]);
    const fields = [`"ttl": ${entry.ttl}`];
    for (const [type, values] of byType) fields.push(`${JSON.stringify(type)}: ${JSON.stringify(type === 'CNAME' ? values[0] : values)}`);
    lines.push(`  ${JSON.stringify(owner)}: { ${fields.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}

function presentation(record: Rdata): string {
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return record.address;
    case 'TXT':
      return characterStrings(record.text, 255).join(' ');
    case 'CAA':
      return `${record.flags} ${record.tag} ${characterStrings(record.value, Infinity)[0]}`;
    case 'MX':
      return `${record.preference} ${record.exchange}.`;
    case 'SRV':
      return `${record.priority} ${record.weight} ${record.port} ${record.target}.`;
    case 'CNAME':
    case 'NS':
      return `${record.target}.`;
  }
}

/** Text as quoted <character-string>s of at most `max` bytes each: `"` and `\\` escaped, other bytes outside ASCII as \\DDD. */
function characterStrings(text: string, max: number): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: string[] = [];
  for (let at = 0; at === 0 || at < bytes.length; at += max) {
    let quoted = '';
    for (const byte of bytes.subarray(at, at + max)) {
      if (byte === 0x22 || byte === 0x5c) quoted += `\\${String.fromCharCode(byte)}`;
      else if (byte < 0x20 || byte > 0x7e) quoted += `\\${String(byte).padStart(3, '0')}`;
      else quoted += String.fromCharCode(byte);
    }
    out.push(`"${quoted}"`);
  }
  return out;
}

function toMasterFile(origin: string, soa: Soa, entries: ReadonlyMap<string, Entry>): string {
  const lines = [`$ORIGIN ${origin}.`, `${origin}. ${soa.ttl} IN SOA ns1.${origin}. hostmaster.${origin}. ${soa.serial} 7200 900 1209600 ${soa.minimum}`];
  for (const entry of entries.values()) {
    for (const record of entry.records) lines.push(`${entry.name}. ${entry.ttl} IN ${record.type} ${presentation(record)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every type at each name of the zone (empty non-terminals included), fewer at names around it. */
function questionsFor(origin: string, entries: ReadonlyMap<string, Entry>, random: () => number): Question[] {
  const kindOf = new Map<string, string>();
  for (const entry of entries.values()) {
    kindOf.set(entry.name, entry.kind === 'cname' ? describeChain(entry.name, origin, entries) : entry.records.length === 0 ? 'empty' : entry.kind);
    for (let parent = entry.name; parent !== origin; ) {
      parent = parent.slice(parent.indexOf('.') + 1);
      if (!kindOf.has(parent)) kindOf.set(parent, 'empty non-terminal');
    }
  }
  const asked = new Set<string>();
  const questions: Question[] = [];
  const ask = (name: string, types: readonly string[], what: string): void => {
    for (const type of types) {
      const key = `${name} ${type}`;
      if (asked.has(key)) continue;
      asked.add(key);
      questions.push({ name: mixedCase(name, random), type, what });
    }
  };
  for (const [name, kind] of kindOf) {
    ask(name, TYPES_AT, `at ${kind}`);
    ask(`q.${name}`, TYPES_AROUND, `below ${kind}`);
    ask(`q.r.${name}`, TYPES_AROUND, `under ${kind}`);
    if (name !== origin) ask(`${name.replace('.', 'z.')}`, TYPES_AROUND, `beside ${kind}`);
  }
  return questions;
}

/** "cname chain of 2 to glue": how long an in-zone chain is and where it ends. */
function describeChain(start: string, origin: string, entries: ReadonlyMap<string, Entry>): string {
  const inZone = (name: string): boolean => name === origin || name.endsWith(`.${origin}`);
  /** "delegation", "glue" or "name below a delegation" when a cut is at or above `name`. */
  const nearCut = (name: string): string | null => {
    for (let above = name; above !== origin; above = above.slice(above.indexOf('.') + 1)) {
      if (entries.get(above)?.kind === 'delegation') return above === name ? 'delegation' : entries.get(name)?.kind === 'glue' ? 'glue' : 'name below a delegation';
    }
    return null;
  };
  let name = start;
  let length = 0;
  let end: string;
  for (;;) {
    const cname = entries.get(name)?.records.find((record) => record.type === 'CNAME');
    if (cname?.type !== 'CNAME') {
      end = entries.get(name)?.kind ?? ([...entries.keys()].some((other) => other.endsWith(`.${name}`)) ? 'empty non-terminal' : 'nothing');
      break;
    }
    length++;
    name = cname.target;
    const cut = inZone(name) ? nearCut(name) : 'outside the zone';
    if (cut !== null) {
      end = cut;
      break;
    }
  }
  return `cname chain of ${length > 5 ? 'more than 5' : length} to ${end}`;
}

function mixedCase(name: string, random: () => number): string {
  return [...name].map((ch) => (random() < 0.3 ? ch.toUpperCase() : ch)).join('');
}
