/**
 * SRV (RFC 2782): `{ priority, weight, port, target }`. Written by hand: dns2 compresses the
 * target, which RFC 2782 forbids. An in-zone target's addresses go in the additional section.
 */
import { RRType } from '../../wire/index.js';
import { numbersThenName } from '../rdata-encoding.js';
import type { RecordType } from '../record-type.js';

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

const KEYS = ['priority', 'weight', 'port', 'target'];

export const SRV: RecordType<'SRV', SrvData> = {
  name: 'SRV',
  code: RRType.SRV,
  yaml: {
    read(node, zone) {
      const map = zone.map(node, 'an SRV record ({ priority, weight, port, target })');
      if (!map) return undefined;
      const fields = zone.pairs(map, KEYS, 'SRV');
      for (const key of KEYS) {
        if (!fields.has(key)) {
          zone.report(map, 'missing-key', `an SRV record needs ${key}`);
          return undefined;
        }
      }
      const priority = zone.integer(zone.valueNode(fields.get('priority')), 'priority', 0, 65535);
      const weight = zone.integer(zone.valueNode(fields.get('weight')), 'weight', 0, 65535);
      const port = zone.integer(zone.valueNode(fields.get('port')), 'port', 0, 65535);
      const target = zone.targetName(zone.valueNode(fields.get('target')), 'target');
      if (priority === undefined || weight === undefined || port === undefined || target === undefined) return undefined;
      return { priority, weight, port, target };
    },
  },
  encodeRdata: (data) => numbersThenName([data.priority, data.weight, data.port], data.target),
  additionalName: (data) => data.target,
  anyRank: 8,
  present: (rdata) => `${rdata.u16()} ${rdata.u16()} ${rdata.u16()} ${rdata.name()}`,
};
