#!/usr/bin/env bash
# Installs the Debian packages Patchbay builds and tests with, when any is missing. Needs root (or sudo).
# With arguments, installs those packages instead (scripts/bench-deps.sh names the benchmark's).
set -euo pipefail
packages=(libosip2-dev libc-ares-dev sip-tester openssl libsqlite3-dev libgoogle-perftools-dev chromium rtpengine-daemon baresip-core dnsmasq-base)
[ $# -gt 0 ] && packages=("$@")
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
