#!/bin/bash
# make demo: ucni end to end in a sandbox of network namespaces — no real NIC, no VM.
#
#   1. macvlan: two pods on the node's uplink (conf/macvlan.conflist), ping, CHECK, DEL
#   2. devmgr on a fake sysfs tree of two dual-port NICs (tests/fixtures/mkfakesysfs):
#      inventory, apply of conf/devmgr-pools.json, pools, alloc/release, export
#   3. the sriov plugin on that tree: two pods take a VF each from a pool
#      (conf/sriov-pool.conflist), ping, DEL, the VFs back in the node as they were
#
#   node namespace (plays the host)                 pod namespaces
#   eth0 ── veth ── uplink                          mv1, mv2: eth0 (macvlan on the node's eth0)
#   ens1f0v0 ── veth ── p0 ─┐ bridge esw            sr1: net1 (was ens1f0v0, VF 0 of ens1f0)
#   ens1f0v1 ── veth ── p1 ─┘ (the NIC's switch)    sr2: net1 (was ens1f0v1, VF 1 of ens1f0)
#
# In the fake tree VFs 0 and 1 of ens1f0 have the netdevs ens1f0v0 and ens1f0v1: here they
# are veth ends, so the plugin moves, renames and restores real links. The plugins and
# devmgr run inside the node namespace. Every file lives in one temporary folder
# (host-local's dataDir, the allocation store, the lock directory); the namespaces and
# the folder are removed at the end, also on Ctrl-C. Nothing is written to /run/ucni.
#
# UCNI_BIN: the built programs (make demo passes build/bin); mkfakesysfs is taken from
# the same build tree (<build>/tests/fixtures/mkfakesysfs; UCNI_MKFAKESYSFS names another).
set -u
cd "$(dirname "$0")/.." || exit 1
. scripts/demo-lib.sh
BIN=${UCNI_BIN:-$PWD/build/bin}
MKFAKESYSFS=${UCNI_MKFAKESYSFS:-${BIN%/bin}/tests/fixtures/mkfakesysfs}
for p in macvlan sriov devmgr; do [ -x "$BIN/$p" ] || die "$BIN/$p is not built (make demo builds it)"; done
[ -x "$MKFAKESYSFS" ] || die "$MKFAKESYSFS is not built (make demo builds it)"
ID=ucni-demo-$$
NODE=$ID-node
PODS=("$ID-mv1" "$ID-mv2" "$ID-sr1" "$ID-sr2")
TMP=$(mktemp -d /tmp/ucni-demo.XXXXXX) || exit 1
SYS=$TMP/sys ST=$TMP/state
START=$SECONDS

cleanup() {
	local ns
	for ns in "${PODS[@]}" "$NODE"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: removing the sandbox"; exit 130' INT TERM

# the plugins run inside the node namespace, with their state in the sandbox's folder
DEMO_BIN=$BIN DEMO_TMP=$TMP DEMO_WRAP=(ip netns exec "$NODE")
DEMO_ENV=(UCNI_LOCK_DIR="$TMP/locks" UCNI_SYSFS_ROOT="$SYS" UCNI_STATE_DIR="$ST")
# node settings of the sandbox: host-local keeps its store only where the node allows
# (dataDirs, ucni(7)); here that is the sandbox's folder
echo "{\"dataDirs\": [\"$TMP/ipam\"]}" >"$TMP/node.json"
DEMO_ENV+=(UCNI_NODE_CONFIG="$TMP/node.json")
# devmgr ARGS… — the CLI on the fake tree with the sandbox's allocation store
devmgr() { ip netns exec "$NODE" "$BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" "$@"; }
# vfline NETDEV — a VF's netdev in the node: name, MAC, MTU, flags
vfline() { ip -n "$NODE" -j link show "$1" | jq -r '.[0] | "\(.ifname) \(.address) mtu \(.mtu) \(.flags | join(","))"'; }

echo "ucni demo: sandbox namespaces $ID-*, files in $TMP"
ip netns add "$NODE" || die "cannot create network namespaces (run as root)"
for ns in "${PODS[@]}"; do ip netns add "$ns" || die "ip netns add $ns"; done
ip -n "$NODE" link set lo up

# ---------------------------------------------------------------------------------------
part "1/3 macvlan: two pods on the node's uplink"
ip -n "$NODE" link add eth0 type veth peer name uplink || die "veth"
ip -n "$NODE" link set eth0 up && ip -n "$NODE" link set uplink up
run ip -n "$NODE" -br link
say "The node namespace plays the host: its eth0 is the uplink the pods' macvlans hang on."
run cat conf/macvlan.conflist
netconf conf/macvlan.conflist . >"$TMP/macvlan.json" || die "jq"
say "The example network: macvlan in bridge mode on eth0, host-local hands out IPv4 and IPv6; the runtime" \
	"passes plugins[0] with the list's name and cniVersion ($TMP/macvlan.json; host-local's dataDir in $TMP)."
cni_pods macvlan ADD eth0 "$TMP/macvlan.json" \
	"The CNI result: the pod's eth0 and its addresses and routes from host-local." \
	"${PODS[0]}" "${PODS[1]}"
run ip -n "${PODS[0]}" addr show eth0
say "Inside ${PODS[0]}: eth0, a macvlan of the node's eth0, with the addresses of the result."
ping_pod "${PODS[0]}" "${PODS[1]}" 4
say "Pod 1 reaches pod 2 over IPv4: their macvlans (bridge mode) switch in the kernel, on the node's eth0."
ping_pod "${PODS[0]}" "${PODS[1]}" 6
say "And over IPv6."
jq --slurpfile r "$TMP/mv1.result" '. + {prevResult: $r[0]}' "$TMP/macvlan.json" >"$TMP/macvlan-check.json"
cni macvlan CHECK "${PODS[0]}" eth0 "$TMP/macvlan-check.json"
say "CHECK (the config with the ADD result as prevResult) printed nothing and exited 0: the pod is as ADD left it."
cni_pods macvlan DEL eth0 "$TMP/macvlan.json" \
	"DEL printed nothing and exited 0: the pod's eth0 is removed and host-local released its addresses." \
	"${PODS[0]}" "${PODS[1]}"
run ip -n "${PODS[1]}" -br link
say "Only lo is left in the pod; host-local holds" \
	"$(find "$TMP/ipam/ucni-macvlan" -type f ! -name 'lock' ! -name 'last_reserved*' | wc -l) reservations."

# ---------------------------------------------------------------------------------------
part "2/3 devmgr: SR-IOV inventory and pools on a fake sysfs tree"
run "$MKFAKESYSFS" "$SYS"
say "A sysfs tree as a node with two dual-port NICs shows it (Intel E810: ens1f0/ens1f1, Mellanox" \
	"ConnectX-6 Dx: ens2f0/ens2f1) and an onboard NIC, written into a folder: no such hardware is needed."
note "Below, devmgr stands for: ip netns exec $NODE $BIN/devmgr --sysfs-root $SYS --state-dir $ST"
run devmgr list
say "The inventory: each PF with its VFs (driver, NUMA node, VFs enabled/possible, link), VFs on" \
	"vfio-pci with their /dev/vfio node; VFs of the PF without link and an unbound VF are unhealthy."
run cat conf/devmgr-pools.json
say "The example pool config: VF counts per PF, and pools (resources) chosen by vendor, driver, PF and VF range."
run devmgr apply conf/devmgr-pools.json
say "apply set each PF's VF count (already 8: unchanged) and installed the pools in the allocation store."
run devmgr pools
say "Each pool's VFs: a VF belongs to the first pool whose selectors match; unhealthy ones are never handed out."
run devmgr alloc --pool intel_netdev --owner demo-job --ifname net1
say "alloc handed out the pool's first free healthy VF (as a program or script would ask for one)."
run_sh "devmgr show ens1f0v0 --json | jq -c .allocation"
say "The allocation record of that VF: pool, owner, interface name, time."
run devmgr release --owner demo-job
say "release restored the VF and dropped the record: the VF is free again."
run devmgr export --format device-plugin
say "The same pools as a config for the Kubernetes SR-IOV network device plugin, one PCI address list per resource."

# ---------------------------------------------------------------------------------------
part "3/3 the sriov plugin: two pods take a VF each from a pool"
ip -n "$NODE" link add esw type bridge || die "bridge"
ip -n "$NODE" link set esw up
for i in 0 1; do
	ip -n "$NODE" link add "ens1f0v$i" address "02:00:3b:00:00:0$i" type veth peer name "p$i" || die "veth"
	ip -n "$NODE" link set "p$i" master esw up || die "veth"
done
ip -n "$NODE" link set ens1f0v0 up
before0=$(vfline ens1f0v0) before1=$(vfline ens1f0v1)
run ip -n "$NODE" -br link show type veth
say "ens1f0v0 and ens1f0v1 are the netdevs of ens1f0's VFs 0 and 1 in the fake tree; here they are veths whose" \
	"other ends (p0, p1) meet on a bridge that plays the NIC's switch. VF 0 is up, VF 1 down."
run cat conf/sriov-pool.conflist
netconf conf/sriov-pool.conflist '.pool = "intel_netdev" | del(.poolConfig, .spoofchk)' >"$TMP/sriov.json" || die "jq"
say "The example network takes a VF from a pool; here the pool is intel_netdev of the config devmgr apply" \
	"installed (no poolConfig: the installed one), and no spoofchk, a VF setting the fake PF cannot take" \
	"(make demo-vm shows VF settings on a real PF). $TMP/sriov.json is what the plugin reads."
cni_pods sriov ADD net1 "$TMP/sriov.json" \
	"The result names the VF (pciID) now in the pod as net1, with its address from host-local." \
	"${PODS[2]}" "${PODS[3]}"
run ip -n "${PODS[2]}" addr show net1
say "Inside ${PODS[2]}: VF 0's netdev, moved in, renamed net1, up, addressed."
run devmgr pools
say "The plugin allocated through devmgr's store: intel_netdev shows VFs 0 and 1 used by the two pods."
ping_pod "${PODS[2]}" "${PODS[3]}" 4
say "Pod 1 reaches pod 2 through their VFs."
cni_pods sriov DEL net1 "$TMP/sriov.json" \
	"DEL printed nothing and exited 0: the VF went back to the node and its allocation was released." \
	"${PODS[2]}" "${PODS[3]}"
run ip -n "$NODE" -br link show type veth
after0=$(vfline ens1f0v0) after1=$(vfline ens1f0v1)
if [ "$before0|$before1" = "$after0|$after1" ]; then
	say "The VFs are back in the node as they were: name, MAC, MTU and state (VF 0 up, VF 1 down)."
else
	die "a VF did not come back as it was: before '$before0' '$before1', after '$after0' '$after1'"
fi
run_sh "devmgr pools --json | jq -c '.pools[] | {name, total, free, used}'"
say "Both allocations released: intel_netdev has all its healthy VFs free again."

part "Done in $((SECONDS - START)) s: removing the sandbox ($ID-*, $TMP)"
