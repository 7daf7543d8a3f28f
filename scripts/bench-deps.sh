#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make deps` (Debian, as root or with sudo), when any is missing:
# Kamailio (the reference), sipp, and what the harness in ../shared/bench uses (time, gcc for its clock shim,
# python3, iproute2's ss, sysstat), plus linux-perf for profiling.
set -euo pipefail
packages=(kamailio sip-tester time gcc python3 iproute2 sysstat linux-perf)
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
