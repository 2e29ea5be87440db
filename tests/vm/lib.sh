# shellcheck shell=bash
# Host-side helpers for suites that run part of their checks in the test VM.
# Source after tests/lib.sh:
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$UCNI_TOP/tests/vm/lib.sh"
#   vm_suite --igb 1 -- tests/sriov/vm-checks.sh     # a lib.sh-style suite, run in the VM
#   finish
#
# A suite that is nothing but one guest suite needs no helper at all:
#   exec "$UCNI_TOP/tests/vm/run" --igb 1 -- tests/sriov/vm-checks.sh
# (its "N passed, N failed, N skipped" line and exit status reach tests/run-suites as is).

VM_RUN=${VM_RUN:-$UCNI_TOP/tests/vm/run}

# vm_suite [run options…] -- GUEST_SUITE [ARGS…]
# Runs GUEST_SUITE in the VM, shows its lines as they come, and adds its counts to this
# suite's. The guest's own summary line is shown as "(in the VM: …)" so that only the
# host suite's final line is the one tests/run-suites reads. A guest run that ends
# without a summary line (no boot, timeout, crash) counts as one failure. This suite's
# T_ID goes along to the guest.
vm_suite() {
	local log rc line p f s
	log=$(mktemp "$T_TMP/vm-suite.XXXXXX")
	T_ID=$T_ID "$VM_RUN" "$@" 2>&1 |
		sed -u -E 's/^(\w+: )?([0-9]+ passed, [0-9]+ failed.*)$/(in the VM: \2)/' | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^\(in the VM: [0-9]+ passed' "$log" | tail -n1)
	if [ -z "$line" ]; then
		fail "VM suite ${*: -1}" "ended without a result line (exit status $rc)"
		return 1
	fi
	p=$(sed -E 's/^\(in the VM: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f)) T_SKIP=$((T_SKIP + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		fail "VM suite ${*: -1}" "exit status $rc without a failed check"
	fi
	[ "$rc" -eq 0 ]
}

# vm_time VAR [run options…] -- COMMAND…  — run in the VM, wall time in seconds (x.y) in VAR,
# COMMAND's output on stdout/stderr; returns COMMAND's exit status.
vm_time() {
	local __var=$1 __t0 __rc __ms
	shift
	__t0=$(date +%s%N)
	"$VM_RUN" "$@"
	__rc=$?
	__ms=$((($(date +%s%N) - __t0) / 1000000))
	printf -v "$__var" '%d.%d' $((__ms / 1000)) $((__ms % 1000 / 100))
	return $__rc
}
