#!/bin/bash
# devmgr on real SR-IOV: two emulated igb NICs (Intel 82576) in the test VM. The checks
# run inside the guest: tests/devmgr/vm-guest.sh.
. "$(dirname "$0")/../lib.sh"
. "$UCNI_TOP/tests/vm/lib.sh"
cd "$UCNI_TOP" || exit 1
if ! out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
	finish
fi
vm_suite --igb 2 -- tests/devmgr/vm-guest.sh
finish
