#!/bin/bash
# make bench-vm: the benchmark for ipvlan, whose kernel module the host lacks, inside the
# qemu VM of tests/vm (Debian's kernel, emulated CPU: only the ratios mean anything), and
# macvlan in the same VM for comparison. Writes $B/bench-vm/{ipvlan,macvlan}.json.
# Extra arguments go to the driver.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
out=$B/bench-vm
mkdir -p "$out"
rc=0
for kind in ipvlan macvlan; do
	echo "== $kind (in the VM)"
	tests/vm/run --timeout "${UCNI_BENCH_VM_TIMEOUT:-900}" --rw "$out" -- \
		"$B/bench/driver" --kind "$kind" --ucni "$B/bin/$kind" --cases l2,static,scale \
		--iterations 20 --siblings 10,200 --json "$out/$kind.json" "$@" || rc=1
done
exit $rc
