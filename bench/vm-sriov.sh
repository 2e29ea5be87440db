#!/bin/bash
# Inside the test VM (bench/vm.sh boots it with tests/vm/run --igb 1): give the igb PF one
# VF, then time ucni's sriov plugin moving that VF into pods and back against the floor
# (bench/driver --kind sriov). Arguments go to the driver.
set -u
cd "$(dirname "$0")/.." || exit 2
[ "${UCNI_VM:-}" = 1 ] || { echo "bench/vm-sriov.sh runs inside the test VM (bench/vm.sh)" >&2; exit 2; }
B=${B:-${BUILD:-build}} # bench/vm.sh passes its B
up=$(tests/vm/guest-sriov-up 1) || { echo "bench/vm-sriov.sh: no VF: $up" >&2; exit 2; }
read -r pf _ vfdev <<<"$up"
vf=$(basename "$(readlink -f "/sys/class/net/$vfdev/device")")
echo "PF $pf, VF $vf ($vfdev)"
exec "$B/bench/driver" --kind sriov --vf "$vf" --ucni "$B/bin/sriov" "$@"
