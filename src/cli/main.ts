#!/usr/bin/env -S node --max-semi-space-size=8 --expose-gc
/**
 * cli/: argv → command. `serve`, `check`, `explain`, `override`, `fleet status`, `push`, `zones history|rollback`,
 * `keygen` and `ds`; no logic of its own beyond turning flags into options and results into exit codes and text.
 */

import { KEEP_RUNNING, runMeridian } from './run-meridian.js';

runMeridian(process.argv.slice(2)).then((code) => {
  if (code !== KEEP_RUNNING) process.exitCode = code;
});
