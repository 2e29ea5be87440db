#!/bin/bash
# The eswitch mode over devlink on netdevsim (and igb, which has no devlink eswitch) in
# the test VM: one boot runs tests/devmgr/eswitch-vm-guest.sh with the normal and the
# FAULTS=1 build of tests/devmgr/eswitch_tool (dm_eswitch_get/set).
. "$(dirname "$0")/../lib.sh"
. "$UCNI_TOP/tests/vm/lib.sh"
cd "$UCNI_TOP" || exit 1
if ! make --no-print-directory -C "$UCNI_TOP" FAULTS=1 build/fault/tests/devmgr/eswitch_tool >"$T_TMP/build.log" 2>&1; then
	fail "the FAULTS=1 build of eswitch_tool" "$(tail -n3 "$T_TMP/build.log" | tr '\n' ' ')"
	finish
fi
if ! out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
	finish
fi
vm_suite --netdevsim --igb 1 --timeout "${UCNI_ESWITCH_VM_TIMEOUT:-300}" -- tests/devmgr/eswitch-vm-guest.sh
finish
