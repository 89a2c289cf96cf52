/**
 * A (RFC 1035 §3.4.1) and AAAA (RFC 3596): one address each, written as text in the zone file
 * (`A: 192.0.2.1` or a list of them). Routed names get theirs from pools instead.
 */
import { RRType } from '../../wire/index.js';
import { dns2Rdata } from '../rdata-encoding.js';
import type { RecordType, YamlValue, ZoneValueReader } from '../record-type.js';

export interface AddressData {
  /** Canonical text (IPv6 compressed, lower case). */
  address: string;
}

function addressType<Name extends 'A' | 'AAAA'>(name: Name, code: number, family: 4 | 6, anyRank: number): RecordType<Name, AddressData> {
  return {
    name,
    code,
    yaml: {
      read(node: YamlValue, zone: ZoneValueReader): AddressData | undefined {
        const address = zone.address(node, `${name} record`);
        if (!address) return undefined;
        if (address.family !== family) {
          zone.report(node, 'bad-address', `${address.address} is an IPv${address.family} address: put it under ${address.family === 4 ? 'A' : 'AAAA'}`);
          return undefined;
        }
        return { address: address.address };
      },
    },
    encodeRdata: (data) => dns2Rdata(code, { address: data.address }),
    anyRank,
    present(rdata) {
      const bytes = rdata.bytes(family === 4 ? 4 : 16);
      if (family === 4) return Array.from(bytes).join('.');
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
      return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
    },
  };
}

export const A = addressType('A', RRType.A, 4, 1);
export const AAAA = addressType('AAAA', RRType.AAAA, 6, 2);
