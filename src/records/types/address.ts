/**
 * A (RFC 1035 §3.4.1) and AAAA (RFC 3596): one address each, written as text in the zone file
 * (`A: 192.0.2.1` or a list of them). Routed names get theirs from pools instead.
 */
import { addressBytes, ipv4Text, ipv6Text, RRType } from '../../wire/index.js';
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
    // The address's own 4 or 16 bytes: dns2's encoder built a bit array per record, and a
    // 10,000-name zone's compile made ~120 MB of garbage through it.
    encodeRdata: (data) => addressBytes(data.address),
    anyRank,
    present(rdata) {
      return family === 4 ? ipv4Text(rdata.bytes(4)) : ipv6Text(rdata.bytes(16));
    },
  };
}

export const A = addressType('A', RRType.A, 4, 1);
export const AAAA = addressType('AAAA', RRType.AAAA, 6, 2);
