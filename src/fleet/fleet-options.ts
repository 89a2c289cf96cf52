/**
 * The fleet's command-line options: `--fleet URL[,URL...]`, `--fleet-creds FILE`, `--fleet-ca FILE` and
 * `--instance NAME`, turned into what the NATS client needs. Credentials in a URL (`user:pass@`, or a
 * lone token `token@`) are taken out of it here, since the client does not read them from URLs.
 */
import { hostname } from 'node:os';

export interface FleetOptions {
  /** host:port of each NATS server, without scheme or credentials. */
  readonly servers: readonly string[];
  /** The URLs as given with any password or token masked, for logs and `/status`. */
  readonly displayUrls: readonly string[];
  /** Every URL was tls:// (or --fleet-ca was given): the connection must be TLS. */
  readonly tls: boolean;
  readonly caFile: string | null;
  readonly credsFile: string | null;
  readonly user: string | null;
  readonly pass: string | null;
  readonly token: string | null;
  /** This instance's name in the fleet: unique among running instances. */
  readonly instance: string;
}

export interface FleetFlags {
  fleet?: string | undefined;
  creds?: string | undefined;
  ca?: string | undefined;
  instance?: string | undefined;
}

/** Instance names go into NATS keys as one token, and into logs and metrics labels: keep them plain. */
const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/**
 * Flags → fleet options; null without `--fleet` (a lone instance). Throws an Error whose message names
 * the flag and can be shown as is.
 */
export function parseFleetOptions(flags: FleetFlags, defaultName: string = hostname()): FleetOptions | null {
  if (flags.fleet === undefined) {
    for (const [flag, value] of [['--fleet-creds', flags.creds], ['--fleet-ca', flags.ca]] as const) {
      if (value !== undefined) throw new Error(`${flag} needs --fleet URL`);
    }
    if (flags.instance !== undefined) checkInstanceName(flags.instance);
    return null;
  }
  const texts = flags.fleet.split(',').map((text) => text.trim()).filter((text) => text !== '');
  if (texts.length === 0) throw new Error('--fleet: expected nats://HOST:PORT[,nats://HOST:PORT...]');
  const servers: string[] = [];
  const displayUrls: string[] = [];
  const schemes = new Set<string>();
  let user: string | null = null;
  let pass: string | null = null;
  let token: string | null = null;
  for (const text of texts) {
    const url = parseServerUrl(text);
    schemes.add(url.scheme);
    servers.push(url.hostPort);
    displayUrls.push(url.display);
    if (url.user !== null) {
      if (url.pass === null) {
        if (token !== null && token !== url.user) throw new Error('--fleet: the URLs carry different tokens');
        token = url.user;
      } else {
        if (user !== null && (user !== url.user || pass !== url.pass)) throw new Error('--fleet: the URLs carry different users');
        user = url.user;
        pass = url.pass;
      }
    }
  }
  if (user !== null && token !== null) throw new Error('--fleet: give either user:pass@ or a token@, not both');
  if (schemes.size > 1) throw new Error('--fleet: mix of nats:// and tls:// URLs; use one scheme for every server');
  if (flags.creds !== undefined && (user !== null || token !== null)) throw new Error('--fleet-creds and credentials in the URL exclude each other');
  const instance = flags.instance ?? defaultName;
  checkInstanceName(instance, flags.instance === undefined ? ' (the host name; name this instance with --instance NAME)' : '');
  return {
    servers,
    displayUrls,
    tls: schemes.has('tls') || flags.ca !== undefined,
    caFile: flags.ca ?? null,
    credsFile: flags.creds ?? null,
    user,
    pass,
    token,
    instance,
  };
}

function checkInstanceName(name: string, hint = ''): void {
  if (!INSTANCE_NAME.test(name)) {
    throw new Error(`--instance ${JSON.stringify(name)}${hint}: expected 1 to 63 letters, digits, '-' or '_', starting with a letter or digit`);
  }
}

interface ServerUrl {
  scheme: 'nats' | 'tls';
  hostPort: string;
  display: string;
  user: string | null;
  pass: string | null;
}

function parseServerUrl(text: string): ServerUrl {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `nats://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`--fleet ${JSON.stringify(text)}: not a URL (expected nats://HOST:PORT or tls://HOST:PORT)`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'nats' && scheme !== 'tls') throw new Error(`--fleet ${JSON.stringify(text)}: the scheme must be nats:// or tls://`);
  if (url.hostname === '') throw new Error(`--fleet ${JSON.stringify(text)}: no host`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new Error(`--fleet ${JSON.stringify(text)}: expected only ${scheme}://[CREDENTIALS@]HOST:PORT`);
  }
  const port = url.port === '' ? 4222 : Number(url.port);
  const hostPort = `${url.hostname}:${port}`;
  const user = url.username === '' ? null : decodeURIComponent(url.username);
  const pass = url.password === '' ? null : decodeURIComponent(url.password);
  const credentials = user === null ? '' : pass === null ? '***@' : `${user}:***@`;
  return { scheme, hostPort, display: `${scheme}://${credentials}${hostPort}`, user, pass };
}
