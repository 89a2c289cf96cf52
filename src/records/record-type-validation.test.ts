/**
 * What `check` says about bad records of the newer types, at file:line:col: digests of the wrong
 * length, SVCB/HTTPS records that break RFC 9460 §2.4 and §8, NAPTR with both a regexp and a
 * replacement, DS away from a delegation, and generic types that cannot be served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile } from '../zones/index.js';

/** The diagnostics for one name's records (line 5 of the file), as check prints them. */
function problems(records: string): string[] {
  const text = `zone: t.test\nsoa: { mname: ns1.t.test, rname: hostmaster.t.test }\nrecords:\n  "@": { NS: ns1 }\n  www: { ${records} }\n`;
  const result = parseZoneFile('t.yaml', text);
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

const HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const CASES: [string, string][] = [
  ['DS: { key_tag: 1, algorithm: 13, digest_type: 2, digest: abcd }, NS: ns1', 't.yaml:5:67: a digest of type 2 must be 32 bytes (64 hex digits), not 2 [bad-value]'],
  [`DS: { key_tag: 1, algorithm: 13, digest_type: 2, digest: "${HASH}" }`, 't.yaml:5:10: DS belongs at a delegation, beside its NS records (RFC 4035 §2.4): the parent answers it for the child [bad-value]'],
  ['TLSA: { usage: 3, selector: 1, matching_type: 1, data: "xyz" }', 't.yaml:5:65: data of matching type 1 must be hexadecimal digits, two per byte [bad-value]'],
  ['SSHFP: { algorithm: 4, fingerprint: "00" }', 't.yaml:5:17: a SSHFP record needs fingerprint_type [missing-key]'],
  [
    'NAPTR: { order: 1, preference: 1, regexp: "!a!b!", replacement: sip.example.net. }',
    't.yaml:5:17: a NAPTR record has a regexp or a replacement, not both (RFC 3403 §4.1): leave replacement out (".") when regexp is set [bad-value]',
  ],
  [
    'HTTPS: { priority: 0, target: cdn.example.net., alpn: h2 }',
    't.yaml:5:58: priority 0 is AliasMode, which takes only a target: remove alpn or give a priority of 1 or more (ServiceMode) [bad-value]',
  ],
  ['HTTPS: { priority: 1, target: ".", no-default-alpn: true }', 't.yaml:5:45: no-default-alpn needs alpn beside it (RFC 9460 §7.1.1): which protocols does the service speak? [bad-value]'],
  ['SVCB: { priority: 1, target: ".", port: 53, mandatory: [port, mandatory] }', 't.yaml:5:72: mandatory cannot list itself (RFC 9460 §8) [bad-value]'],
  ['SVCB: { priority: 1, target: ".", port: 53, mandatory: [alpn] }', 't.yaml:5:66: mandatory lists alpn, which this record does not have (RFC 9460 §8) [bad-value]'],
  ['SVCB: { priority: 1, target: ".", port: 53, mandatory: [port, port] }', 't.yaml:5:72: mandatory lists port twice (RFC 9460 §8) [bad-value]'],
  ['SVCB: { priority: 1, target: ".", ipv4hint: "2001:db8::1" }', 't.yaml:5:54: 2001:db8::1 is an IPv6 address: put it under ipv6hint [bad-address]'],
  ['HTTPS: { priority: 1, target: ".", ech: "not base64!" }', 't.yaml:5:50: ech (an ECHConfigList) must be base64 (RFC 4648: A-Z a-z 0-9 + /, padded with = to a multiple of 4) [bad-value]'],
  ['SVCB: [{ priority: 0, target: a.example.net. }, { priority: 1, target: "." }]', 't.yaml:5:16: an SVCB RRset with an AliasMode record (priority 0) holds that one record alone: clients ignore the others (RFC 9460 §2.4.2) [bad-value]'],
  ['TYPE65400: "\\\\# 5 0a000001"', 't.yaml:5:21: "\\# 5" announces 5 bytes of RDATA, but 4 follow [bad-value]'],
  ['TYPE1: "\\\\# 4 0a000001"', 't.yaml:5:10: TYPE1 is A: write it as A [bad-value]'],
  ['TYPE39: "\\\\# 0"', 't.yaml:5:10: TYPE39 is DNAME, whose rewriting Meridian does not do: use CNAMEs (a wildcard CNAME covers a subtree) [bad-value]'],
  ['TYPE251: "\\\\# 0"', 't.yaml:5:10: TYPE251 is a meta type or a question type (RFC 6895 §3.1), never data in a zone [bad-value]'],
];

for (const [records, expected] of CASES) {
  test(`check refuses ${records}`, () => {
    assert.deepEqual(problems(records), [expected]);
  });
}

test('a generic type with a good RDATA, and each new type with good values, load', () => {
  assert.deepEqual(problems('TYPE65400: ["\\\\# 4 0a000001", "\\\\# 0"], PTR: host.example.net.'), []);
  assert.deepEqual(problems(`NS: ns1, DS: { key_tag: 1, algorithm: 13, digest_type: 2, digest: "${HASH.slice(0, 32)} ${HASH.slice(32)}" }`), []);
});
