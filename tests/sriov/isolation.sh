#!/bin/bash
# The tenant-isolation suite on real SR-IOV devices: one VM (tests/vm/run) with one emulated
# igb NIC runs tests/sriov/isolation-guest.sh; its summary line and exit status reach
# tests/run-suites as is.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../vm/run" --igb 1 --timeout "${UCNI_SRIOV_VM_TIMEOUT:-600}" -- "$here/isolation-guest.sh" "$@"
