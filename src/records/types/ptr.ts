/**
 * PTR (RFC 1035 §3.3.12): a name, in a reverse zone (`2.0.192.in-addr.arpa`, `8.b.d.0.1.0.0.2.ip6.arpa`)
 * the host an address belongs to. Targets follow the usual rule: write them absolute, with the final dot.
 */
import { encodeName, RRType } from '../../wire/index.js';
import type { RecordType } from '../record-type.js';

export interface PtrData {
  target: string;
}

export const PTR: RecordType<'PTR', PtrData> = {
  name: 'PTR',
  code: RRType.PTR,
  yaml: {
    read(node, zone) {
      const target = zone.targetName(node, 'PTR target');
      return target === undefined ? undefined : { target };
    },
  },
  encodeRdata: (data) => encodeName(data.target),
  anyRank: 10,
  present: (rdata) => rdata.name(),
};
