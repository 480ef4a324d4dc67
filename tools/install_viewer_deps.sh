#!/usr/bin/env bash
# Installs Debian's `graphviz` (the `dot` layout binary behind
# `eventplane workflow show-execution --graph` and the gateway's execution page) and
# `chromium` (the headless browser the page's tests load it in) when either is
# missing. Runs unattended as root or through passwordless sudo; changes nothing when
# both are there.
#
# Exit codes: 0 installed (or already there), 1 the install failed, 2 cannot install
# here (no apt-get, or neither root nor passwordless sudo).
set -euo pipefail

if command -v dot >/dev/null && command -v chromium >/dev/null; then
  echo "graphviz and chromium already installed: $(command -v dot), $(command -v chromium)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "install_viewer_deps.sh: no apt-get here; install graphviz and chromium by hand" >&2
  exit 2
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install_viewer_deps.sh: needs root or passwordless sudo to apt-get install graphviz chromium" >&2
  exit 2
fi

started=$SECONDS
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  graphviz chromium fonts-dejavu-core >/dev/null

for tool in dot chromium; do
  if ! command -v "$tool" >/dev/null; then
    echo "install_viewer_deps.sh: $tool still missing after apt-get install graphviz chromium" >&2
    exit 1
  fi
done
echo "installed $(dot -V 2>&1 | head -1) and $(chromium --version 2>/dev/null | head -1) in $((SECONDS - started)) s"
