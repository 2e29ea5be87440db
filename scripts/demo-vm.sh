#!/bin/bash
# make demo-vm: what the host kernel cannot show — ipvlan, and SR-IOV on a NIC with real
# VFs — in the test VM (tests/vm/run: qemu, Debian's kernel, the host's / read-only).
# It boots the VM with one emulated Intel 82576 (igb) NIC and runs
# scripts/demo-vm-guest.sh there; the VM and everything in it are gone when it ends,
# also on Ctrl-C. The first run installs and caches the VM's packages (tests/vm/setup).
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/demo-lib.sh
export UCNI_BIN=${UCNI_BIN:-$PWD/build/bin}
export UCNI_DEMO_COLOR=$demo_color
for p in ipvlan sriov devmgr; do [ -x "$UCNI_BIN/$p" ] || die "$UCNI_BIN/$p is not built (make demo-vm builds it)"; done
echo "Booting the test VM (qemu, Debian's kernel, one emulated igb NIC with SR-IOV) ..."
exec tests/vm/run --igb 1 --timeout "${UCNI_DEMO_VM_TIMEOUT:-600}" -- scripts/demo-vm-guest.sh
