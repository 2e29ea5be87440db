#!/bin/bash
# make bench-vm: the benchmark for what the host kernel lacks, inside the qemu VM of
# tests/vm (Debian's kernel, emulated CPU: only the ratios mean anything): ipvlan, macvlan
# in the same VM for comparison, and sriov on a VF of qemu's emulated igb NIC (--igb 1,
# bench/vm-sriov.sh). Writes $B/bench-vm/{ipvlan,macvlan,sriov}.json.
# UCNI_BENCH_VM_KINDS picks the kinds (default "ipvlan macvlan sriov"); extra arguments go
# to the driver.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
out=$B/bench-vm
mkdir -p "$out"
rc=0
for kind in ${UCNI_BENCH_VM_KINDS:-ipvlan macvlan sriov}; do
	echo "== $kind (in the VM)"
	if [ "$kind" = sriov ]; then
		B=$B tests/vm/run --igb 1 --env B --timeout "${UCNI_BENCH_VM_TIMEOUT:-900}" --rw "$out" -- \
			bench/vm-sriov.sh --iterations 20 --json "$out/sriov.json" "$@" || rc=1
		continue
	fi
	tests/vm/run --timeout "${UCNI_BENCH_VM_TIMEOUT:-900}" --rw "$out" -- \
		"$B/bench/driver" --kind "$kind" --ucni "$B/bin/$kind" --cases l2,static,scale \
		--iterations 20 --siblings 10,200 --json "$out/$kind.json" "$@" || rc=1
done
exit $rc
