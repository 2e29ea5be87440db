#!/bin/bash
# devmgr apply on real SR-IOV: one VM with an emulated igb behind an emulated Intel IOMMU
# (tests/vm/run --iommu --igb 1); the checks run inside: tests/devmgr/apply-vm-guest.sh.
# The fault-injection devmgr (FAULTS=1, build/fault/bin/devmgr) is built here first.
. "$(dirname "$0")/../lib.sh"
. "$UCNI_TOP/tests/vm/lib.sh"
cd "$UCNI_TOP" || exit 1
if ! out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
	finish
fi
if ! make --no-print-directory FAULTS=1 build/fault/bin/devmgr >"$T_TMP/build.log" 2>&1; then
	fail "building the fault-injection devmgr" "$(tail -n5 "$T_TMP/build.log")"
	finish
fi
vm_suite --iommu --igb 1 --timeout "${UCNI_APPLY_VM_TIMEOUT:-900}" -- tests/devmgr/apply-vm-guest.sh
finish
