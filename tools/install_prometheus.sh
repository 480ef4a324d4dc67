#!/usr/bin/env bash
# Installs Debian's `prometheus` package (which ships `promtool`) when `prometheus` or
# `promtool` is missing, for the observability tests (tests/observability/). Runs
# unattended as root or through passwordless sudo; changes nothing when both are there.
#
# The packaged service is never started: the tests run their own prometheus binary
# with a temporary config, storage directory and port. A policy-rc.d that answers
# 101 ("action forbidden") keeps the package's postinst from starting it, on a host
# with systemd as in a container.
#
# Exit codes: 0 installed (or already there), 1 the install failed, 2 cannot install
# here (no apt-get, or neither root nor passwordless sudo).
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  echo "prometheus and promtool already installed: $(command -v prometheus), $(command -v promtool)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "install_prometheus.sh: no apt-get here; install prometheus (with promtool) by hand" >&2
  exit 2
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install_prometheus.sh: needs root or passwordless sudo to apt-get install prometheus" >&2
  exit 2
fi

policy=/usr/sbin/policy-rc.d
backup=""
restore_policy() {
  if [ -n "$backup" ]; then
    "${as_root[@]}" mv -f "$backup" "$policy"
  else
    "${as_root[@]}" rm -f "$policy"
  fi
}
if [ -e "$policy" ]; then
  backup="$(mktemp -u /usr/sbin/policy-rc.d.eventplane.XXXXXX)"
  "${as_root[@]}" cp -p "$policy" "$backup"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# written by eventplane tools/install_prometheus.sh for the install\nexit 101\n' |
  "${as_root[@]}" tee "$policy" >/dev/null
"${as_root[@]}" chmod 0755 "$policy"

started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  prometheus >/dev/null

for tool in prometheus promtool; do
  if ! command -v "$tool" >/dev/null; then
    echo "install_prometheus.sh: $tool still missing after apt-get install prometheus" >&2
    exit 1
  fi
done
echo "installed $(prometheus --version 2>&1 | head -1) in $((SECONDS - started)) s"
