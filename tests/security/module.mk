# Security suites: names from the environment, the config and the command line that must
# never become paths, state file modes and symlinks, other containers' VFs, full disk and
# read-only state. devmgr.sh covers the devmgr CLI and store, sriov.sh the sriov plugin's
# inputs (macvlan's and ipvlan's own checks live in their suites), hostile.sh what a
# tenant's network config may name on the node: log and config files (within the node's
# directories), escaped NULs in JSON strings. unshare and findmnt
# come with util-linux, on every Debian system.
CHECK_SUITES += tests/security/devmgr.sh tests/security/sriov.sh tests/security/hostile.sh
SAN_SUITES   += tests/security/devmgr.sh tests/security/sriov.sh tests/security/hostile.sh
