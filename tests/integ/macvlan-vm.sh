#!/bin/bash
# The macvlan suite once more, on the VM's kernel (Debian 6.1): a second kernel
# version for free. The version loop is narrowed and the kernel-independent
# bad-input cases are left to the host run, to keep the VM time short.
UCNI_MACVLAN_VERSIONS="0.3.1 1.1.0" UCNI_QUICK=1 \
	exec "$(dirname "$0")/../vm/run" --env UCNI_MACVLAN_VERSIONS --env UCNI_QUICK -- tests/integ/macvlan.sh
