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
finish
