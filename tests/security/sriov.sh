#!/bin/bash
# Security of the sriov plugin's inputs, on the host kernel against the fake sysfs tree
# (as tests/sriov/host.sh): crafted CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS, deviceID
# (and runtimeConfig.deviceID, pciBusID) and pool names are refused with their CNI error
# code before anything is touched; another container can neither take, check nor
# release a VF it does not hold, not even with a crafted prevResult.
#
#   node netns: ens1f0v0 ── veth ── p0   (VF 0000:3b:01.0 of the fake tree)
#   ctr-a's netns: receives VF 0 as net1; every other ADD/DEL/CHECK here must leave it so
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

PLUGIN=$UCNI_BIN/sriov
MKFAKE=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
[ -x "$PLUGIN" ] || { fail "plugin built" "$PLUGIN missing"; finish; }
SYS=$T_TMP/sys STATE=$T_TMP/state
"$MKFAKE" "$SYS" >/dev/null || { fail "mkfakesysfs"; finish; }
NODE=$(mkns node) || { fail "node netns"; finish; }
CNI_NODE=$NODE
CNI_EXTRA_ENV=(UCNI_SYSFS_ROOT="$SYS" UCNI_STATE_DIR="$STATE")
ip -n "$NODE" link add ens1f0v0 address 02:00:00:aa:00:00 type veth peer name p0
ip -n "$NODE" link set p0 up
VF=0000:3b:01.0

conf() { jq -nc --argjson x "${1:-{\}}" '{cniVersion: "1.0.0", name: "sec", type: "sriov"} + $x'; }
record() { cat "$STATE/vfs/$1.json" 2>/dev/null; }
# what the store holds, and every file made outside it since the mark
state() { (cd "$STATE" 2>/dev/null && find vfs -type f | sort && cat vfs/*.json 2>/dev/null) | md5sum; }
strays() { find "$T_TMP" -path "$SYS" -prune -o -path "$STATE" -prune -o -newer "$T_TMP/mark" -type f \
	! -name stderr -print; }
in_ctr_a() { ip -n "$NSA" link show net1 >/dev/null 2>&1; }

NSA=$(mkns ctra) || { fail "netns of ctr-a"; finish; }
cni ADD "$PLUGIN" "$NSA" net1 ctr-a <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "ctr-a gets VF 0" 0 "$CNI_RC"
RESULT_A=$CNI_OUT
check "it is net1 in ctr-a's netns" in_ctr_a
check_eq "the record names ctr-a" "ctr-a net1" "$(record $VF | jq -r '"\(.owner) \(.ifname)"')"
before=$(state)
echo x >"$T_TMP/plainfile"
touch "$T_TMP/mark"

# ---- crafted names: refused before anything is touched
NSB=$(mkns ctrb) || { fail "netns of ctr-b"; finish; }
for cid in "../ctr-a" "ctr-a/.." "ctr-a/../ctr-b" "/etc/passwd" "." ".." ".ctr" "ctr a" $'ctr\nb' $'ctr\x01'; do
	show=$(printf '%q' "$cid" | cut -c1-24)
	cni ADD "$PLUGIN" "$NSB" net1 "$cid" <<<"$(conf "{\"deviceID\": \"0000:3b:01.1\"}")"
	check_eq "ADD with CNI_CONTAINERID $show: code 4" 4 "$(jv .code)"
	cni DEL "$PLUGIN" "$NSB" net1 "$cid" <<<"$(conf "{\"deviceID\": \"$VF\"}")"
	check_eq "DEL with CNI_CONTAINERID $show: code 4" 4 "$(jv .code)"
done
# The spec sets no length limit; ucni takes at most 255 characters (runtimes use 64,
# and the allocation store is keyed by it), for every verb, like the other rules.
long=$(printf 'c%.0s' $(seq 1 300))
cni ADD "$PLUGIN" "$NSB" net1 "$long" <<<"$(conf "{\"deviceID\": \"0000:3b:01.1\"}")"
check_eq "ADD with a 300-character CNI_CONTAINERID: code 4" 4 "$(jv .code)"
cni DEL "$PLUGIN" "$NSB" net1 "$long" <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "DEL with a 300-character CNI_CONTAINERID: code 4" 4 "$(jv .code)"
for ifn in "../net1" "a/b" "." ".." "averyverylongname" "net 1" $'net\n1'; do
	show=$(printf '%q' "$ifn")
	cni ADD "$PLUGIN" "$NSB" "$ifn" ctr-b <<<"$(conf "{\"deviceID\": \"0000:3b:01.1\"}")"
	check_eq "ADD with CNI_IFNAME $show: code 4" 4 "$(jv .code)"
done
for key in deviceID pciBusID runtimeConfig; do
	for dev in "../$VF" "$VF/../../x" "/sys/bus/pci/devices/$VF" "$VF/" $'0000:3b:01.0\n' "0000:3b:01.0 " "3b:01.0/.."; do
		show=$(printf '%q' "$dev")
		case $key in
		runtimeConfig) x=$(jq -nc --arg d "$dev" '{runtimeConfig: {deviceID: $d}}') ;;
		*) x=$(jq -nc --arg k "$key" --arg d "$dev" '{($k): $d}') ;;
		esac
		cni ADD "$PLUGIN" "$NSB" net1 ctr-b <<<"$(conf "$x")"
		check_eq "ADD with $key $show: code 7" 7 "$(jv .code)"
	done
done
cni ADD "$PLUGIN" "$NSB" net1 ctr-b <<<"$(conf '{"deviceID": "0000:3B:01.0"}')"
check_eq "an upper-case deviceID names the same (held) VF: refused" 1 "$CNI_RC"
for pool in "../x" "a/b" "/etc/passwd"; do
	cni ADD "$PLUGIN" "$NSB" net1 ctr-b <<<"$(conf "$(jq -nc --arg p "$pool" --arg c "$UCNI_TOP/conf/devmgr-pools.json" '{pool: $p, poolConfig: $c}')")"
	check_eq "ADD from pool $pool: code 7" 7 "$(jv .code)"
done

for nsp in "$T_TMP/plainfile" /proc/self/ns/mnt "$T_TMP"; do
	cni ADD "$PLUGIN" "$nsp" net1 ctr-b <<<"$(conf '{"deviceID": "0000:3b:01.1"}')"
	check_eq "ADD with CNI_NETNS ${nsp#"$T_TMP"/} (not a network namespace): code 4" 4 "$(jv .code)"
done
check_eq "none of these changed the store" "$before" "$(state)"
check_eq "none made a file outside it" "" "$(strays)"

# ---- another container and ctr-a's VF
cni ADD "$PLUGIN" "$NSB" net1 ctr-b <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check "ctr-b cannot take ctr-a's VF (code $(jv .code))" test "$CNI_RC" -ne 0
cni CHECK "$PLUGIN" "$NSB" net1 ctr-b <<<"$(jq -c --argjson p "$RESULT_A" '. + {prevResult: $p}' <<<"$(conf "{\"deviceID\": \"$VF\"}")")"
check "CHECK by ctr-b with ctr-a's result fails (code $(jv .code))" test "$CNI_RC" -ne 0
cni DEL "$PLUGIN" "$NSB" net1 ctr-b <<<"$(jq -c --argjson p "$RESULT_A" '. + {prevResult: $p}' <<<"$(conf "{\"deviceID\": \"$VF\"}")")"
check_eq "DEL by ctr-b with ctr-a's deviceID and result: nothing to do (exit 0)" 0 "$CNI_RC"
cni DEL "$PLUGIN" "$NSA" net1 ctr-b <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "DEL by ctr-b naming ctr-a's netns: exit 0" 0 "$CNI_RC"
cni DEL "$PLUGIN" "$NSA" net2 ctr-a <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "DEL by ctr-a for another ifname: exit 0" 0 "$CNI_RC"
check "ctr-a still has its VF" in_ctr_a
check_eq "and its record" "$before" "$(state)"

cni DEL "$PLUGIN" "$NSA" net1 ctr-a <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "ctr-a's own DEL" 0 "$CNI_RC"
check "the VF is back in the node" ip -n "$NODE" link show ens1f0v0
check_eq "and released" "" "$(ls -A "$STATE/vfs")"

# ---- node setting "sriovDeviceIDs": "pools": a deviceID only within the node's own pools
# (DEVMGR_CONFIG here, the node's environment), never widened by a poolConfig of the config
node_with() { jq --argjson x "$1" '. + $x' "$T_NODE_CONFIG" >"$T_TMP/node-ids.json" && chmod 644 "$T_TMP/node-ids.json"; }
POOLS=$T_TMP/node-pools.json
mkdir -p "$T_TMP/etc-ucni"
WIDE=$T_TMP/etc-ucni/wide.json
echo '{"resourceList": [{"resourceName": "all", "selectors": {"vendors": ["8086"]}}]}' >"$WIDE"
pools_are() { echo "{\"resourceList\": [{\"resourceName\": \"ens1\", \"selectors\": {\"pfNames\": [\"$1\"]}}]}" >"$POOLS"; }
UCNI_NODE_CONFIG=$T_TMP/node-ids.json
CNI_EXTRA_ENV=(UCNI_SYSFS_ROOT="$SYS" UCNI_STATE_DIR="$STATE" DEVMGR_CONFIG="$POOLS")
node_with '{"sriovDeviceIDs": "pools", "configDirs": ["'"$T_TMP/etc-ucni"'"]}'
pools_are "ens1f0#1-7"
before=$(state)
for key in deviceID runtimeConfig; do
	if [ $key = deviceID ]; then c=$(conf "{\"deviceID\": \"$VF\"}"); k=deviceID
	else c=$(conf "{\"runtimeConfig\": {\"deviceID\": \"$VF\"}}"); k=runtimeConfig.deviceID; fi
	cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$c"
	check_eq "sriovDeviceIDs pools: $k outside the node's pools is code 7" 7 "$(jv .code)"
	check_match "the message names $k and the setting" "\"$k\" value \"$VF\" is in none of the node's pools \\(node setting \"sriovDeviceIDs\" is \"pools\"\\)" "$(jv .msg)"
done
cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\", \"poolConfig\": \"$WIDE\"}")"
check_eq "a poolConfig of the config does not widen the node's pools (code 7)" 7 "$(jv .code)"
rm "$POOLS"
cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "no node pool config: code 7" 7 "$(jv .code)"
check_match "naming the setting and the file" "node setting \"sriovDeviceIDs\" is \"pools\": the pool config .*node-pools.json cannot be opened" "$(jv .msg)"
node_with '{"sriovDeviceIDs": "some"}'
cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "a bad sriovDeviceIDs: every deviceID refused (code 7)" 7 "$(jv .code)"
check_match "naming the setting's values" 'node settings .*"sriovDeviceIDs" that is neither "any" nor "pools"' "$(jv .msg)"
check_eq "none of these changed the store" "$before" "$(state)"
check "nor took the VF from the node" ip -n "$NODE" link show ens1f0v0
check "nor put anything in ctr-a's netns" test "$(ip -n "$NSA" -o link show | wc -l)" -eq 1
pools_are "ens1f0#0-3"
node_with '{"sriovDeviceIDs": "pools"}'
cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "sriovDeviceIDs pools: a VF in the node's pools is taken" 0 "$CNI_RC"
check "it is net1 in the netns" in_ctr_a
cni DEL "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "and given back by DEL" "0 " "$CNI_RC $(ls -A "$STATE/vfs")"
node_with '{"sriovDeviceIDs": "any"}'
rm "$POOLS"
cni ADD "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "sriovDeviceIDs any: any VF, no pool config needed" 0 "$CNI_RC"
cni DEL "$PLUGIN" "$NSA" net1 ctr-c <<<"$(conf "{\"deviceID\": \"$VF\"}")"
check_eq "and given back" "0 " "$CNI_RC $(ls -A "$STATE/vfs")"
finish
