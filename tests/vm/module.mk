# tests/vm: the qemu test VM (tests/vm/run) for what the host kernel lacks — ipvlan,
# dummy, netdevsim, SR-IOV (qemu's igb) — and the rig's own smoke suite.
# tests/vm/setup installs its packages itself: qemu ≥ 8 comes from bookworm-backports,
# whose apt source must be added first, so none of them are in DEPS_PKGS. It caches the
# boot files in ${UCNI_VM_CACHE:-/var/cache/ucni/vm}; tests/vm/run calls it when needed.

CHECK_SUITES += tests/vm/smoke.sh

.PHONY: vm-setup vm-prepare
vm-setup:
	$(Q)tests/vm/setup

# `make check` prepares the VM before any suite runs, so the one-off install and build
# are not billed to the first VM suite. A failure here does not stop the other suites:
# each VM suite runs setup again and fails with the reason.
check: vm-prepare
vm-prepare:
	-$(Q)tests/vm/setup
