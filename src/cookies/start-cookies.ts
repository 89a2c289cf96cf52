/**
 * DNS cookies as a server runs them: the per-query check over the given secrets (a random one
 * when none is given) and the once-a-second clock it reads, stopped by one close.
 */
import { randomCookieSecrets, tickingSecondsClock } from './cookie-secrets.js';
import { ServerCookies, type CookieSecrets } from './server-cookies.js';

export interface RunningCookies {
  readonly cookies: ServerCookies;
  close(): void;
}

export function startServerCookies(secrets: CookieSecrets = randomCookieSecrets()): RunningCookies {
  const clock = tickingSecondsClock();
  return { cookies: new ServerCookies(secrets, clock.now), close: () => clock.stop() };
}
