#!/usr/bin/env bash
# Cross-builds static gridbox binaries for the boxes the county installs:
# linux/amd64 (mini PCs), linux/arm64 (Raspberry Pi 4/5 class), linux/arm v7
# (older ARM boards). Output: dist/gridbox-linux-ARCH plus SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
mkdir -p dist
for target in amd64 arm64 arm:7; do
  arch=${target%%:*}
  arm=""
  [ "$arch" = arm ] && arm=${target#*:}
  out=dist/gridbox-linux-$arch${arm:+v$arm}
  echo "build $out"
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOARM=$arm \
    go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out" ./appliance/cmd/gridbox
done
(cd dist && sha256sum gridbox-linux-* > SHA256SUMS)
