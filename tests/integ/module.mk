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
