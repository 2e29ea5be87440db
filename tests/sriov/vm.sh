#!/bin/bash
# The sriov suite on real SR-IOV devices: one VM (tests/vm/run) with an emulated IOMMU
# (so vfio-pci binds for real), two emulated igb
# NICs and netdevsim runs tests/sriov/vm-suite.sh; its summary line and exit status
# reach tests/run-suites as is.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../vm/run" --igb 2 --netdevsim --iommu --timeout "${UCNI_SRIOV_VM_TIMEOUT:-600}" -- "$here/vm-suite.sh" "$@"
