/** CNAME (RFC 1035 §3.3.1): the one name this name is an alias of. */
import { RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface CnameData {
  target: string;
}

export const CNAME: RecordType<'CNAME', CnameData> = {
  name: 'CNAME',
  code: RRType.CNAME,
  yaml: {
    read(node, zone) {
      const target = zone.targetName(node, 'CNAME target');
      return target === undefined ? undefined : { target };
    },
    onlyOne: 'a name has one CNAME target, not a list',
  },
  encodeRdata: (data) => dns2Rdata(RRType.CNAME, { domain: data.target }),
  anyRank: 3,
  present: (rdata) => rdata.name(),
};
