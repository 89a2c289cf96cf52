/**
 * The kernel's view of IPv4 UDP sockets (/proc/net/udp and /proc/PID/fd), for tests that must see
 * which process holds which socket on a port, or how many datagrams a socket dropped.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface UdpSocketRow {
  /** The socket's inode: /proc/PID/fd links to it as `socket:[inode]`. */
  inode: string;
  /** Datagrams dropped for a full receive buffer (the last column). */
  drops: number;
}

/** The IPv4 UDP sockets bound to local port `port`. */
export function udpSocketsOnPort(port: number): UdpSocketRow[] {
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9 && parseInt(fields[1]!.split(':')[1]!, 16) === port)
    .map((fields) => ({ inode: fields[9]!, drops: Number(fields.at(-1)) }));
}

/** Whether process `pid` holds the socket `inode` among its descriptors (false once it is gone). */
export function holdsSocket(pid: number, inode: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false; // gone meanwhile
  }
}
