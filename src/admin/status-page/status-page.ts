/**
 * admin/status-page: the operator's live page at GET / on the admin port. The page itself is one
 * self-contained HTML file beside this module (inline CSS and script, no build step, no CDN, no
 * framework; `npm run build` copies it next to the compiled module). It holds no data: it polls
 * /status and /activity, posts overrides to /overrides and asks /explain, with the admin
 * endpoint's token rules. This module serves the file and assembles /activity.
 */
import { readFileSync } from 'node:fs';

let page: string | null = null;

/** The page's HTML, read once. */
export function statusPageHtml(): string {
  page ??= readFileSync(new URL('./status-page.html', import.meta.url), 'utf8');
  return page;
}
