#!/usr/bin/env bash
# npm run bench [-- OPTIONS]   (options: npm run bench -- --help)
# Builds Meridian, installs dnsperf, pdns-server, pdns-backend-geoip and gdnsd when missing (Debian;
# BENCH_NO_INSTALL=1 skips that), then runs bench/run.ts. Every process the
# driver starts is recorded (PID + start time) in a temp file; the EXIT trap kills whichever of
# them is still alive, even if the driver itself was killed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the benchmark needs: dnsperf (the client), and the two servers it compares
# Meridian with (PowerDNS + its geoip backend, gdnsd). Only missing ones are installed.
missing=()
command -v dnsperf >/dev/null 2>&1 || missing+=(dnsperf)
[ -x /usr/sbin/pdns_server ] || missing+=(pdns-server)
compgen -G '/usr/lib/*/pdns/libgeoipbackend.so' >/dev/null || compgen -G '/usr/lib/pdns/libgeoipbackend.so' >/dev/null || missing+=(pdns-backend-geoip)
[ -x /usr/sbin/gdnsd ] || missing+=(gdnsd)
if [ "${#missing[@]}" -gt 0 ] && [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  echo "bench: installing missing Debian packages: ${missing[*]}" >&2
  as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
  }
  # The packaged pdns and gdnsd services would bind port 53 if the install started them. A
  # policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d from starting anything during
  # this install (the usual Debian mechanism); it is only created when none exists, and removed after.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ] && as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" 2>/dev/null; then
    made_policy=1
  fi
  if as_root env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' sh "${missing[@]}"; then
    # Where systemd runs, keep the packaged units from starting at boot (they would take port 53).
    if [ -d /run/systemd/system ]; then
      for unit in pdns gdnsd; do
        as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
      done
    fi
  else
    echo "bench: apt-get install ${missing[*]} failed (need root or sudo); servers that are missing will be skipped" >&2
  fi
  if [ "$made_policy" = 1 ]; then as_root rm -f "$policy"; fi
fi
if ! command -v dnsperf >/dev/null 2>&1; then
  echo "bench: dnsperf is required (apt-get install dnsperf)" >&2
  exit 1
fi
command -v taskset >/dev/null 2>&1 || echo "bench: taskset (util-linux) not found: running unpinned" >&2

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "bench: npm run build" >&2
  npm run build --silent
  # The batched UDP module as npm install builds it (the -batched rows need it; it says why when it cannot be built).
  node native/batched-udp/build.mjs >&2
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
