#!/bin/bash
# devmgr serve on real SR-IOV: an emulated igb NIC (Intel 82576) in the test VM, under the
# kubelet stand-in (tests/devmgr/kubelet.py). The checks run inside the guest:
# tests/devmgr/serve-vm-guest.sh.
. "$(dirname "$0")/../lib.sh"
. "$UCNI_TOP/tests/vm/lib.sh"
cd "$UCNI_TOP" || exit 1
if ! out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
	finish
fi
vm_suite --igb 1 -- tests/devmgr/serve-vm-guest.sh
finish
