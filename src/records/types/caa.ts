/** CAA (RFC 8659): `{ flags, tag, value }`, flags 0 when left out. */
import { presentCharacterString, RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface CaaData {
  flags: number;
  tag: string;
  value: string;
}

export const CAA: RecordType<'CAA', CaaData> = {
  name: 'CAA',
  code: RRType.CAA,
  yaml: {
    read(node, zone) {
      const map = zone.map(node, 'a CAA record ({ flags, tag, value })');
      if (!map) return undefined;
      const fields = zone.pairs(map, ['flags', 'tag', 'value'], 'CAA');
      if (!fields.has('tag') || !fields.has('value')) {
        zone.report(map, 'missing-key', 'a CAA record needs tag and value');
        return undefined;
      }
      const flags = fields.has('flags') ? zone.integer(zone.valueNode(fields.get('flags')), 'flags', 0, 255) : 0;
      const tag = zone.string(zone.valueNode(fields.get('tag')), 'tag');
      // RFC 8659 §4.1.1: the tag is 1 to 15 ASCII letters and digits.
      if (tag !== undefined && !/^[a-zA-Z0-9]{1,15}$/.test(tag)) {
        zone.report(zone.valueNode(fields.get('tag')), 'bad-value', 'a CAA tag is 1 to 15 letters and digits (issue, issuewild, iodef)');
        return undefined;
      }
      const value = zone.scalar(zone.valueNode(fields.get('value')));
      if (typeof value !== 'string') {
        zone.report(zone.valueNode(fields.get('value')), 'bad-type', 'a CAA value is a string');
        return undefined;
      }
      return flags === undefined || tag === undefined ? undefined : { flags, tag, value };
    },
  },
  encodeRdata: (data) => dns2Rdata(RRType.CAA, { flags: data.flags, tag: data.tag, value: data.value }),
  anyRank: 9,
  present(rdata) {
    const flags = rdata.u8();
    const tag = rdata.bytes(rdata.u8()).toString('latin1');
    return `${flags} ${tag} ${presentCharacterString(rdata.bytes(rdata.remaining))}`;
  },
};
