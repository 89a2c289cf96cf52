/**
 * TXT (RFC 1035 §3.3.14): a string per record. Text over 255 bytes is split into several
 * <character-string>s; written by hand, since dns2 corrupts long strings.
 */
import { isScalar } from 'yaml';
import { presentCharacterString, RRType } from '../../wire/index.js';
import { characterStrings, splitCharacterStrings } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface TxtData {
  strings: readonly string[];
}

export const TXT: RecordType<'TXT', TxtData> = {
  name: 'TXT',
  code: RRType.TXT,
  yaml: {
    read(node, zone) {
      const value = zone.scalar(node);
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        zone.report(node, 'bad-type', 'a TXT record is a string');
        return undefined;
      }
      // An unquoted number is served as written ("1.10", "0x1F"), not as JavaScript prints it.
      const text = typeof value !== 'string' && isScalar(node) && typeof node.source === 'string' ? node.source : String(value);
      return { strings: [text] };
    },
  },
  encodeRdata: (data) => characterStrings(data.strings.flatMap(splitCharacterStrings)),
  anyRank: 5,
  present(rdata) {
    const strings: string[] = [];
    while (rdata.remaining > 0) strings.push(presentCharacterString(rdata.bytes(rdata.u8())));
    return strings.join(' ');
  },
};
