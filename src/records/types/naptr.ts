/**
 * NAPTR (RFC 3403 §4.1): `{ order, preference, flags, service, regexp, replacement }` for ENUM and
 * SIP. `flags`, `service` and `regexp` default to "" and `replacement` to "." (the root); a record
 * rewrites with a regexp or replaces with a name, not both. Written by hand: the replacement is
 * never compressed (RFC 3403 §4.1).
 */
import { encodeName, presentCharacterString, RRType } from '../../wire/index.js';
import { characterStrings } from '../rdata-encoding.js';
import { requiredFields, targetOrRoot } from '../read-values.js';
import type { RecordType, YamlValue, ZoneValueReader } from '../record-type.js';

export interface NaptrData {
  order: number;
  preference: number;
  flags: string;
  service: string;
  regexp: string;
  /** "" for the root. */
  replacement: string;
}

const KEYS = ['order', 'preference', 'flags', 'service', 'regexp', 'replacement'];

/** A <character-string> field: text of at most 255 bytes ("" when absent). */
function text(zone: ZoneValueReader, node: YamlValue, what: string): string | undefined {
  if (node === undefined) return '';
  const value = zone.scalar(node);
  if (typeof value !== 'string' || Buffer.byteLength(value) > 255) {
    zone.report(node, 'bad-value', `${what} is a string of at most 255 bytes`);
    return undefined;
  }
  return value;
}

export const NAPTR: RecordType<'NAPTR', NaptrData> = {
  name: 'NAPTR',
  code: RRType.NAPTR,
  yaml: {
    read(node, zone) {
      const record = requiredFields(zone, node, 'NAPTR', '{ order, preference, flags, service, regexp, replacement }', KEYS, ['order', 'preference']);
      if (!record) return undefined;
      const order = zone.integer(record.value('order'), 'order', 0, 65535);
      const preference = zone.integer(record.value('preference'), 'preference', 0, 65535);
      const flags = text(zone, record.value('flags'), 'flags');
      const service = text(zone, record.value('service'), 'service');
      const regexp = text(zone, record.value('regexp'), 'regexp');
      const replacement = record.fields.has('replacement') ? targetOrRoot(zone, record.value('replacement'), 'replacement') : '';
      if (order === undefined || preference === undefined || flags === undefined || service === undefined || regexp === undefined || replacement === undefined) return undefined;
      // RFC 3403 §4.1: flags are single characters from A-Z and 0-9.
      if (!/^[A-Za-z0-9]*$/.test(flags)) {
        zone.report(record.value('flags'), 'bad-value', 'NAPTR flags are letters and digits ("S", "A", "U", "P")');
        return undefined;
      }
      if (regexp !== '' && replacement !== '') {
        zone.report(record.map, 'bad-value', 'a NAPTR record has a regexp or a replacement, not both (RFC 3403 §4.1): leave replacement out (".") when regexp is set');
        return undefined;
      }
      return { order, preference, flags, service, regexp, replacement };
    },
  },
  encodeRdata(data) {
    const numbers = Buffer.from([data.order >> 8, data.order & 0xff, data.preference >> 8, data.preference & 0xff]);
    const strings = characterStrings([data.flags, data.service, data.regexp].map((value) => Buffer.from(value, 'utf8')));
    return Buffer.concat([numbers, strings, encodeName(data.replacement)]);
  },
  anyRank: 14,
  present(rdata) {
    const numbers = `${rdata.u16()} ${rdata.u16()}`;
    const strings = [0, 1, 2].map(() => presentCharacterString(rdata.bytes(rdata.u8())));
    return `${numbers} ${strings.join(' ')} ${rdata.name()}`;
  },
};
