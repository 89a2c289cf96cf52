/** `meridian serve`'s `--rrl*` flags → the limiter's settings, with errors an operator can act on. */
import { parseAddressBlock } from './client-address.js';
import { DEFAULT_RATE_LIMIT, type RateLimitSettings } from './response-rate-limiter.js';

/** The `--rrl*` flags as `parseArgs` returns them. */
export type RateLimitFlags = Partial<Record<'rrl' | 'rrl-ipv4-prefix' | 'rrl-ipv6-prefix' | 'rrl-window' | 'rrl-slip', string>> & { 'rrl-exempt'?: string[] };

/** A whole number from `min` to `max`, or the default when the flag is absent. */
function wholeNumber(flag: string, text: string | undefined, min: number, max: number, fallback: number, meaning: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) throw new Error(`--${flag} must be a whole number from ${min} to ${max} (${meaning})`);
  return value;
}

/** `--rrl RATE` and its companions → the limiter's settings; undefined when RRL is off. */
export function rateLimitFromFlags(values: RateLimitFlags): RateLimitSettings | undefined {
  if (values.rrl === undefined) {
    const stray = (['rrl-ipv4-prefix', 'rrl-ipv6-prefix', 'rrl-window', 'rrl-slip', 'rrl-exempt'] as const).find((flag) => values[flag] !== undefined);
    if (stray !== undefined) throw new Error(`--${stray} needs --rrl RATE (response rate limiting is off without it)`);
    return undefined;
  }
  return {
    rate: wholeNumber('rrl', values.rrl, 1, 1_000_000, 0, 'responses per second per client prefix and response'),
    ipv4PrefixLength: wholeNumber('rrl-ipv4-prefix', values['rrl-ipv4-prefix'], 8, 32, DEFAULT_RATE_LIMIT.ipv4PrefixLength, 'bits of an IPv4 client address one token covers'),
    ipv6PrefixLength: wholeNumber('rrl-ipv6-prefix', values['rrl-ipv6-prefix'], 16, 128, DEFAULT_RATE_LIMIT.ipv6PrefixLength, 'bits of an IPv6 client address one token covers'),
    windowSeconds: wholeNumber('rrl-window', values['rrl-window'], 1, 3600, DEFAULT_RATE_LIMIT.windowSeconds, 'seconds'),
    slip: wholeNumber('rrl-slip', values['rrl-slip'], 0, 10, DEFAULT_RATE_LIMIT.slip, '0 drops every limited response, N sends every N-th as TC=1'),
    exempt: (values['rrl-exempt'] ?? []).map((text) => {
      try {
        return parseAddressBlock(text);
      } catch (error) {
        throw new Error(`--rrl-exempt ${(error as Error).message}`);
      }
    }),
  };
}
