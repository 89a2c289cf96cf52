/**
 * SOA (RFC 1035 §3.3.13): one per zone, at the apex, written as the zone file's `soa:` block
 * (read with the zone's header) rather than under `records:`.
 */
import { RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export const SOA: RecordType<'SOA', SoaData> = {
  name: 'SOA',
  code: RRType.SOA,
  yaml: null,
  encodeRdata: (data) =>
    dns2Rdata(RRType.SOA, {
      primary: data.mname,
      admin: data.rname,
      serial: data.serial,
      refresh: data.refresh,
      retry: data.retry,
      expiration: data.expire,
      minimum: data.minimum,
    }),
  anyRank: 7,
  present: (rdata) => `${rdata.name()} ${rdata.name()} ${[rdata.u32(), rdata.u32(), rdata.u32(), rdata.u32(), rdata.u32()].join(' ')}`,
};
