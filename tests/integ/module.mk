# Integration suites on the host kernel (root, throw-away namespaces).
CHECK_SUITES += tests/integ/macvlan.sh
SAN_SUITES   += tests/integ/macvlan.sh
CHECK_SUITES += tests/integ/faults.sh
CHECK_SUITES += tests/integ/churn.sh
CHECK_SUITES += tests/integ/ipam-exec.sh
SAN_SUITES   += tests/integ/ipam-exec.sh
DEPS_PKGS    += bc procps
CHECK_SUITES += tests/integ/macvlan-vm.sh
CHECK_SUITES += tests/integ/ownership.sh
SAN_SUITES   += tests/integ/ownership.sh
# In-process IPAM against exec: answers, stores, identity checks, hostile CNI_PATH entries.
CHECK_SUITES += tests/integ/ipam-inproc.sh
SAN_SUITES   += tests/integ/ipam-inproc.sh
DEPS_PKGS    += strace libcap2-bin
