#!/bin/bash
# The sriov suite on real SR-IOV devices: one VM (tests/vm/run) with two emulated igb
# NICs and netdevsim runs tests/sriov/vm-suite.sh; its summary line and exit status
# reach tests/run-suites as is.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../vm/run" --igb 2 --netdevsim --timeout "${UCNI_SRIOV_VM_TIMEOUT:-600}" -- "$here/vm-suite.sh" "$@"
