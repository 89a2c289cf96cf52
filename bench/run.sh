#!/usr/bin/env bash
# npm run bench [-- OPTIONS]   (options: npm run bench -- --help)
# Builds Meridian, installs dnsperf when missing, then runs bench/run.ts. Every process the
# driver starts is recorded (PID + start time) in a temp file; the EXIT trap kills whichever of
# them is still alive, even if the driver itself was killed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v dnsperf >/dev/null 2>&1; then
  echo "bench: dnsperf not found, installing the Debian package" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update && apt-get install -y dnsperf
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update && sudo apt-get install -y dnsperf
  else
    echo "bench: need root or sudo to install dnsperf (apt-get install dnsperf)" >&2
    exit 1
  fi
fi
command -v taskset >/dev/null 2>&1 || echo "bench: taskset (util-linux) not found: running unpinned" >&2

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "bench: npm run build" >&2
  npm run build --silent
fi

pidfile="$(mktemp "${TMPDIR:-/tmp}/meridian-bench-pids.XXXXXX")"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench.XXXXXX")" # zone copy, query files
cleanup() {
  local pid start kind
  while read -r pid start kind; do
    # only the very process we started: same PID and same start time (field 22 of /proc/PID/stat)
    if [ -r "/proc/$pid/stat" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ]; then
      if [ "$kind" = group ]; then
        kill -KILL -- "-$pid" 2>/dev/null || true # dnsperf's wrapper and dnsperf: their own process group
      else
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done <"$pidfile"
  rm -f "$pidfile"
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BENCH_PIDFILE="$pidfile" BENCH_SCRATCH="$scratch" node --import tsx bench/run.ts "$@"
