#!/bin/bash
# make demo-vm, inside the test VM (scripts/demo-vm.sh boots it with one emulated igb NIC):
# ucni on real kernel paths — a real ipvlan driver, real SR-IOV VFs set through their PF.
#
#   1. ipvlan: two pods on the NIC (conf/ipvlan-l2-host-local.conflist), ping, DEL
#   2. SR-IOV: devmgr makes two VFs and a pool of them; the sriov plugin gives each of two
#      pods a VF on VLAN 100 (conf/sriov-pool.conflist), ping, DEL: the VFs as they were
#
#   VM root namespace (plays the node; the plugins and devmgr run here)
#   eth0 = igb PF (Intel 82576) ──┬── ipvlan (l2): eth0 in pods iv1, iv2
#                                 └── VF 0, VF 1 (igbvf): net1 in pods sr1, sr2, VLAN 100
#
# All state (host-local's dataDir, the ipvlan registry, the allocation store, the lock
# directory) lives in one temporary folder; the pods are removed at the end, also on an
# interrupt. Process starts are slow under TCG: little jq.
set -u
[ "${UCNI_VM:-}" = 1 ] || { echo "demo-vm-guest.sh runs inside the test VM (make demo-vm)" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 1
. scripts/demo-lib.sh
BIN=${UCNI_BIN:-$PWD/build/bin}
PF=eth0
PODS=(demo-iv1 demo-iv2 demo-sr1 demo-sr2)
TMP=$(mktemp -d /tmp/ucni-demo.XXXXXX) || exit 1
START=$SECONDS
cleanup() {
	local ns
	for ns in "${PODS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# the plugins run in the VM's root namespace (the node), with their state in the demo's folder
DEMO_BIN=$BIN DEMO_TMP=$TMP DEMO_WRAP=()
DEMO_ENV=(UCNI_LOCK_DIR="$TMP/locks" UCNI_IPVLAN_DIR="$TMP/ipvlan" UCNI_STATE_DIR="$TMP/state")
# node settings of the sandbox: host-local keeps its store only where the node allows
# (dataDirs, ucni(7)); here that is the sandbox's folder
echo "{\"dataDirs\": [\"$TMP/ipam\"]}" >"$TMP/node.json"
DEMO_ENV+=(UCNI_NODE_CONFIG="$TMP/node.json")
devmgr() { "$BIN/devmgr" --state-dir "$TMP/state" "$@"; }
# wait_for SECONDS COMMAND… — poll every 0.1 s
wait_for() { local i; for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done; return 1; }
vflines() { ip link show "$PF" | grep -E '^ +vf [0-9]'; }

echo "ucni demo in the VM: kernel $(uname -r), files in $TMP"
for ns in "${PODS[@]}"; do ip netns add "$ns" || die "ip netns add $ns"; done
[ -e "/sys/class/net/$PF/device/sriov_totalvfs" ] || die "$PF is no SR-IOV NIC (boot with tests/vm/run --igb 1)"

# ---------------------------------------------------------------------------------------
part "1/2 ipvlan: two pods on the NIC"
ip link set "$PF" up
wait_for 15 grep -qx 1 "/sys/class/net/$PF/carrier" || die "$PF has no carrier"
run ip -br link show "$PF"
say "$PF is the VM's NIC: qemu's emulated Intel 82576 (igb), up. The host kernel has no ipvlan; this one has."
run cat conf/ipvlan-l2-host-local.conflist
netconf conf/ipvlan-l2-host-local.conflist . >"$TMP/ipvlan.json" || die "jq"
say "The example network: ipvlan in l2 mode on $PF, addresses from host-local (its dataDir in $TMP)."
cni_pods ipvlan ADD eth0 "$TMP/ipvlan.json" \
	"The result: the pod's eth0 with its address; an ipvlan has its master's MAC." \
	"${PODS[0]}" "${PODS[1]}"
run ip -n "${PODS[0]}" addr show eth0
say "Inside ${PODS[0]}: eth0, an ipvlan of the node's $PF."
ping_pod "${PODS[0]}" "${PODS[1]}" 4
say "Pod 1 reaches pod 2: the ipvlan driver switches between the pods of one master."
cni_pods ipvlan DEL eth0 "$TMP/ipvlan.json" \
	"DEL printed nothing and exited 0: the pod's ipvlan is removed, its address released." \
	"${PODS[0]}" "${PODS[1]}"
run ip -n "${PODS[0]}" -br link
say "Only lo is left in the pod."

# ---------------------------------------------------------------------------------------
part "2/2 SR-IOV: devmgr makes the VFs and a pool, the sriov plugin hands them to pods"
note "Below, devmgr stands for: $BIN/devmgr --state-dir $TMP/state"
run devmgr list
say "The NIC as devmgr sees it in sysfs: an igb PF that can have $(cat "/sys/class/net/$PF/device/sriov_totalvfs") VFs, none enabled yet."
run devmgr vfs "$PF" 2
say "devmgr wrote sriov_numvfs: the PF has two virtual functions, each a PCI device of its own."
wait_for 15 grep -qx 1 "/sys/class/net/$PF/carrier" || die "$PF has no carrier after enabling VFs"
run modprobe igbvf
vfnet() { compgen -G "/sys/class/net/$PF/device/virtfn$1/net/*" >/dev/null; }
wait_for 15 vfnet 0 || die "VF 0 has no netdev"
wait_for 15 vfnet 1 || die "VF 1 has no netdev"
say "The VF driver (a node's udev loads it by itself): each VF now has a netdev in the node."
run devmgr list
say "The PF with its two VFs, their netdevs and driver igbvf."
cat >"$TMP/devmgr.json" <<EOF
{
  "pfs": [{ "name": "$PF", "numVfs": 2 }],
  "resourceList": [
    { "resourceName": "igb_vfs", "selectors": { "vendors": ["8086"], "devices": ["10ca"], "drivers": ["igbvf"] } }
  ]
}
EOF
run cat "$TMP/devmgr.json"
say "A pool config in the style of conf/devmgr-pools.json: two VFs on $PF, and the pool igb_vfs of its igbvf VFs."
run devmgr apply "$TMP/devmgr.json"
say "apply left the VF count (already 2) and installed the pool in the allocation store."
run devmgr pools
say "The pool igb_vfs: both VFs free."
run ip link show "$PF"
say "The PF's vf lines: what the VFs are set to before any pod (MAC, VLAN, spoof checking, trust, link state)."
before=$(vflines)
run cat conf/sriov-pool.conflist
netconf conf/sriov-pool.conflist 'del(.poolConfig) | .vlan = 100' >"$TMP/sriov.json" || die "jq"
say "The example network takes a VF of pool igb_vfs; here without poolConfig (the pools devmgr apply" \
	"installed) and with VLAN 100 ($TMP/sriov.json is what the plugin reads)."
cni_pods sriov ADD net1 "$TMP/sriov.json" \
	"The result: the pod's net1 is the VF named by pciID, with its address from host-local." \
	"${PODS[2]}" "${PODS[3]}"
run ip link show "$PF"
say "Through the PF the plugin set each VF: VLAN 100, spoof checking on (as the config says)."
run ip -n "${PODS[2]}" addr show net1
say "Inside ${PODS[2]}: the VF's netdev, moved in, renamed net1, up, addressed."
run devmgr pools
say "Both VFs of the pool are used, each by its pod."
ping_pod "${PODS[2]}" "${PODS[3]}" 4
say "Pod 1 reaches pod 2: tagged VLAN 100 by the NIC, switched between the two VFs in the NIC."
cni_pods sriov DEL net1 "$TMP/sriov.json" \
	"DEL printed nothing and exited 0: the VF is back in the node, its settings restored, its allocation released." \
	"${PODS[2]}" "${PODS[3]}"
run ip link show "$PF"
after=$(vflines)
if [ "$before" = "$after" ]; then
	say "The PF's vf lines are as before the pods: no VLAN, every setting as it was."
else
	die "the VFs were not restored: before:
$before
after:
$after"
fi
run devmgr pools
say "Both VFs back in the node (their netdevs under their own names) and free in the pool."

part "Done in $((SECONDS - START)) s in the VM"
