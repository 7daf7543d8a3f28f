#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make deps` (Debian, as root or with sudo), when any is missing:
# Kamailio (the reference), sipp, and what the harness in ../shared/bench uses (time, gcc for its clock shim,
# python3, iproute2's ss, sysstat), plus linux-perf and valgrind for profiling.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" kamailio sip-tester time gcc python3 iproute2 sysstat linux-perf valgrind bc
