/**
 * NS (RFC 1035 §3.3.11): the zone's name servers at the apex, a delegation below it. The
 * addresses of in-zone servers travel in the additional section (glue, for a delegation).
 */
import { RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface NsData {
  target: string;
}

export const NS: RecordType<'NS', NsData> = {
  name: 'NS',
  code: RRType.NS,
  yaml: {
    read(node, zone) {
      const target = zone.targetName(node, 'NS target');
      return target === undefined ? undefined : { target };
    },
  },
  encodeRdata: (data) => dns2Rdata(RRType.NS, { ns: data.target }),
  additionalName: (data) => data.target,
  anyRank: 6,
  present: (rdata) => rdata.name(),
};
