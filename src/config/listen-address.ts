/** "127.0.0.1:5300", "[::1]:5300" → host and port, with a clear error for anything else. */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses HOST:PORT (IPv6 in brackets); throws an Error whose message can be shown as is, naming
 * the flag the text came from.
 */
export function parseListenAddress(text: string, flag = '--listen'): ListenAddress {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!match) throw new Error(`${flag} ${JSON.stringify(text)}: expected HOST:PORT, with IPv6 in brackets ([::1]:5300)`);
  const host = match[1]!;
  const port = Number(match[2]);
  if (isIP(host) === 0 && host !== 'localhost') throw new Error(`${flag} ${JSON.stringify(text)}: ${host} is not an IP address`);
  if (port > 65535) throw new Error(`${flag} ${JSON.stringify(text)}: port ${port} is out of range`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** HOST:PORT text, bracketing IPv6. */
export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
