#!/usr/bin/env bash
# Provide the base image the role Dockerfiles start FROM when no registry can
# be pulled from (air-gapped machines, CI here): build a minimal Debian 12 root
# with debootstrap from Debian's apt mirror and import it under the same tag
# Docker Hub uses. Usage: scripts/base-image.sh [tag]   (default debian:bookworm-slim)
set -euo pipefail
TAG="${1:-debian:bookworm-slim}"
if docker image inspect "$TAG" >/dev/null 2>&1; then echo "base image $TAG present"; exit 0; fi
if docker pull "$TAG" >/dev/null 2>&1; then echo "base image $TAG pulled"; exit 0; fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DIR="$(mktemp -d /tmp/drills-rootfs.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT
echo "building $TAG with debootstrap from $MIRROR (about a minute)"
debootstrap --variant=minbase bookworm "$DIR" "$MIRROR" >/tmp/drills-debootstrap.log 2>&1 \
  || { echo "debootstrap failed; see /tmp/drills-debootstrap.log" >&2; exit 1; }
# Same apt sources as the official image, so later apt-get inside builds works.
rm -rf "$DIR"/var/lib/apt/lists/* "$DIR"/var/cache/apt/archives/*.deb
tar -C "$DIR" -c . | docker import - "$TAG" >/dev/null
echo "base image $TAG imported"
