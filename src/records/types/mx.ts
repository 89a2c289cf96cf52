/** MX (RFC 1035 §3.3.9): `{ preference, exchange }`; an in-zone exchange's addresses go in additional. */
import { RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface MxData {
  preference: number;
  exchange: string;
}

export const MX: RecordType<'MX', MxData> = {
  name: 'MX',
  code: RRType.MX,
  yaml: {
    read(node, zone) {
      const map = zone.map(node, 'an MX record ({ preference, exchange })');
      if (!map) return undefined;
      const fields = zone.pairs(map, ['preference', 'exchange'], 'MX');
      if (!fields.has('preference') || !fields.has('exchange')) {
        zone.report(map, 'missing-key', 'an MX record needs preference and exchange');
        return undefined;
      }
      const preference = zone.integer(zone.valueNode(fields.get('preference')), 'preference', 0, 65535);
      const exchange = zone.targetName(zone.valueNode(fields.get('exchange')), 'exchange');
      return preference === undefined || exchange === undefined ? undefined : { preference, exchange };
    },
  },
  encodeRdata: (data) => dns2Rdata(RRType.MX, { exchange: data.exchange, priority: data.preference }),
  additionalName: (data) => data.exchange,
  anyRank: 4,
  present: (rdata) => `${rdata.u16()} ${rdata.name()}`,
};
