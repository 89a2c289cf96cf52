/**
 * `meridian override ADDRESS up|down|drain|clear [--force] --admin HOST:PORT`: forces a member's state on a
 * running server through its admin endpoint (the token comes from MERIDIAN_ADMIN_TOKEN).
 * The server keeps the override in its state file, so it survives reloads and restarts.
 */
import { parseArgs } from 'node:util';
import { formatListenAddress, parseListenAddress } from '../config/index.js';
import { processOutput, type CommandOutput } from './command-output.js';

const STATES = ['up', 'down', 'drain', 'clear'];

export async function runOverride(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      admin: { type: 'string', default: '127.0.0.1:9153' },
      list: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const [address, state] = positionals;
  const listing = values.list === true && positionals.length === 0;
  if ((address === undefined && !listing) || (state !== undefined && !STATES.includes(state)) || positionals.length > 2) {
    output.err('usage: meridian override ADDRESS up|down|drain|clear [--force] [--admin HOST:PORT]\n       meridian override --list [--admin HOST:PORT]\n');
    return 2;
  }
  let admin: string;
  try {
    admin = formatListenAddress(parseListenAddress(values.admin!, '--admin'));
  } catch (error) {
    output.err(`meridian: ${(error as Error).message}\n`);
    return 2;
  }
  const token = process.env.MERIDIAN_ADMIN_TOKEN;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const url = `http://${admin}/overrides/${encodeURIComponent(address ?? '')}${values.force ? '?force=1' : ''}`;
  let response: Response;
  try {
    response =
      state === undefined
        ? await fetch(`http://${admin}/overrides`, { headers })
        : state === 'clear'
          ? await fetch(url, { method: 'DELETE', headers })
          : await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ state }) });
  } catch (error) {
    output.err(`meridian: cannot reach the admin endpoint at ${admin} (is serve running with --admin ${admin}?): ${(error as Error).message}\n`);
    return 1;
  }
  const text = await response.text();
  if (!response.ok) {
    output.err(`meridian: ${response.status} ${errorText(text)}\n`);
    return 1;
  }
  output.out(text);
  return 0;
}

/** The `error` of the admin endpoint's JSON answer (it names the known members), else the body. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: shown as it came
  }
  return body.trim();
}
