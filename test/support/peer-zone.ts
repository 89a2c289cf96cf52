/** The small zone the peer comparisons (wire-peer, cookies) serve from Meridian and from Knot: the same data in both formats. */
export const PEER_ZONE_YAML = `
zone: peer.test
ttl: 300
soa: { mname: ns1.peer.test, rname: hostmaster.peer.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.peer.test] }
  ns1: { A: 192.0.2.53 }
  www: { A: 192.0.2.10 }
`;

export const PEER_ZONE_MASTER = `$ORIGIN peer.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.10
`;
