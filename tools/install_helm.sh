#!/usr/bin/env bash
# Installs the pinned Helm for the chart tests (tests/helm) and prints its path.
#
# Helm is a Go program, so it is built from the Go module proxy with
# `go install` (no binary download). The flags are the ones Helm's own
# Makefile sets: the version `helm version` reports, and the Kubernetes version
# of the client-go it is built with (lint's deprecation checks and the default
# .Capabilities.KubeVersion; without them Helm assumes Kubernetes 1.20).
#
# Installs into $EVENTPLANE_TOOLS_BIN (default ~/.cache/eventplane/bin) and
# does nothing when that Helm is already there at the pinned version. Takes
# about 3 minutes the first time (downloads + compile), seconds after that.
set -euo pipefail

HELM_VERSION="v3.21.4"
# k8s.io/client-go v0.36.x in helm v3.21.4's go.mod -> Kubernetes 1.36.
HELM_K8S_MAJOR="1"
HELM_K8S_MINOR="36"

bin_dir="${EVENTPLANE_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/eventplane/bin}"
helm="$bin_dir/helm"

if [ -x "$helm" ] && [ "$("$helm" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; then
  echo "$helm"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install_helm.sh: Go is needed to build Helm $HELM_VERSION (go install); 'go' is not on PATH" >&2
  exit 1
fi

echo "install_helm.sh: building Helm $HELM_VERSION with $(go version) into $bin_dir" >&2
mkdir -p "$bin_dir"
# Build into a private folder and move the binary into place, so a concurrent
# run or an interrupted build never leaves a half-written helm behind.
staging="$(mktemp -d "$bin_dir/.helm-build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
ldflags="-w -s"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=$HELM_K8S_MAJOR -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
GOBIN="$staging" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv -f "$staging/helm" "$helm"

got="$("$helm" version --template '{{.Version}}')"
if [ "$got" != "$HELM_VERSION" ]; then
  echo "install_helm.sh: built helm reports $got, expected $HELM_VERSION" >&2
  exit 1
fi
echo "$helm"
