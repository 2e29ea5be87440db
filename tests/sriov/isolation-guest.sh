#!/bin/bash
# Tenant isolation on real (emulated) SR-IOV, INSIDE the test VM (tests/sriov/isolation.sh
# boots it with one igb NIC): a VF never carries one tenant's settings to the next.
#
#   VM root namespace (the node: the plugin and devmgr run here)
#   PF (igb) ── VF 0..3 (igbvf netdevs)
#   tenant A: vlan 100, qos 3, trust on, spoofchk off, mac, max_tx_rate  ─▶ its netns dies
#   then `devmgr gc` | `devmgr release DEV` | the next ADD (stale-record reclaim)
#   tenant B: the same VF, none of those keys ─▶ must get a clean VF, and leave it clean
#
# Every case asserts the CNI code (or devmgr's exit status) and the VF as the PF reports
# it (`ip link show PF`, vf lines). Also: a restore the driver refuses keeps the record and
# says so; a VF dirtied behind ucni's back is brought to the baseline by ADD.
source "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "tests/sriov/isolation-guest.sh runs inside the test VM (tests/sriov/isolation.sh)" >&2; exit 2; }
PLUGIN=$UCNI_BIN/sriov
STATE=$T_TMP/state
NET=sriov-isolation
CNI_PATH_OVERRIDE=$UCNI_BIN:$REF_CNI
CNI_EXTRA_ENV=(UCNI_STATE_DIR="$STATE")
source "$(dirname "$0")/vm-lib.sh"
DM() { "$UCNI_BIN/devmgr" --state-dir "$STATE" "$@" 2>&1; }

section "igb: 1 PF × 4 VFs"
up=$("$UCNI_TOP/tests/vm/guest-sriov-up" 4 2>&1) || { fail "guest-sriov-up 4" "$up"; finish; }
ok "VFs up: $(echo $up)"
read -r PF _ <<<"$(sed -n 1p <<<"$up")"
V=()
for i in 0 1 2 3; do V[i]=$(basename "$(readlink "/sys/class/net/$PF/device/virtfn$i")"); done
declare -A VFL ND
for i in 0 1 2 3; do VFL[${V[i]}]=$(vfline "$PF" $i); ND[${V[i]}]=$(netdev "$(vf_netdev "${V[i]}")"); done

DIRTY='"vlan":100,"vlanQoS":3,"trust":"on","spoofchk":"off","mac":"02:00:00:0a:0a:0a","max_tx_rate":100'
AMAC=02:00:00:0a:0a:0a
# tenant_a N NAME — tenant A takes VF N with every key set, then its netns dies without DEL
tenant_a() {
	local ns
	ns=$(mkns "$2")
	add "$ns" "ctr-$2" net1 "$(cf 1.1.0 "\"deviceID\":\"${V[$1]}\",$DIRTY")"
	expect_ok "tenant A ($2) ADD on VF $1"
	local l
	l=$(vfline "$PF" "$1")
	for want in "link/ether $AMAC" 'vlan 100, qos 3' 'spoof checking off' 'trust on'; do
		check_match "  ... the PF shows $want" "$want" "$l"
	done
	ip netns del "$ns"
}
# as_before WHAT N — VF N as it was before any tenant: PF line and netdev
as_before() {
	check_eq "$1: VF $2 on the PF as before any tenant" "${VFL[${V[$2]}]}" "$(vfline "$PF" "$2")"
	check_eq "$1: VF $2 netdev as before (name mac mtu state)" "${ND[${V[$2]}]}" "$(netdev "$(vf_netdev "${V[$2]}")")"
}
# clean WHAT N — nothing of tenant A's on VF N (as the PF reports it)
clean() {
	local l
	l=$(vfline "$PF" "$2")
	check_match "$1: VF $2 has spoofchk on, trust off" 'spoof checking on, link-state auto, trust off' "$l"
	check_eq "$1: VF $2 has no vlan, qos or rate" "" "$(grep -oE 'vlan [0-9]+|qos [0-9]+|rate [1-9][0-9]*' <<<"$l")"
	check_eq "$1: VF $2 does not have tenant A's MAC" "" "$(grep -o "$AMAC" <<<"$l")"
}
# tenant_b WHAT N [forced] — tenant B takes VF N without VF keys: clean; DEL: still clean
tenant_b() {
	local ns
	ns=$(mkns "b$2")
	add "$ns" "ctr-b$2" net1 "$(cf 1.1.0 "\"deviceID\":\"${V[$2]}\"")"
	expect_ok "$1: tenant B ADD on VF $2 (no VF keys)"
	clean "$1: tenant B's VF" "$2"
	local l want=${ND[${V[$2]}]#* }
	l=$(pod_has "$ns" net1)
	l=${l#*link/ether }
	# after a forced drop nothing restored the netdev's own MAC: it keeps what it had
	[ -n "${3:-}" ] || check_eq "$1: tenant B's net1 has the VF's own MAC, not tenant A's" "${want%% *}" "${l%% *}"
	del "$ns" "ctr-b$2" net1 "$(cf 1.1.0 "\"deviceID\":\"${V[$2]}\"")"
	expect_ok "$1: tenant B DEL"
	clean "$1: after tenant B's DEL" "$2"
	as_before "$1: after tenant B's DEL" "$2"
	check_eq "$1: no record of VF $2 left" "" "$(record "${V[$2]}")"
	ip netns del "$ns"
}

section "devmgr gc after tenant A's netns died"
tenant_a 0 gca
out=$(DM gc); rc=$?
check_eq "devmgr gc: exit 0, one allocation restored and released" "0 released 1 stale allocation" "$rc $out"
as_before "devmgr gc" 0
check_eq "devmgr gc: record gone" "" "$(record "${V[0]}")"
tenant_b "after gc" 0

section "devmgr release DEV: refused while tenant A lives, restores after its netns died"
ns=$(mkns rla)
add "$ns" ctr-rla net1 "$(cf 1.1.0 "\"deviceID\":\"${V[1]}\",$DIRTY")"
expect_ok "tenant A (rla) ADD on VF 1"
out=$(DM release "${V[1]}"); rc=$?
check_eq "devmgr release of a live attachment: exit 6" 6 "$rc"
check_match "  ... the record is kept, says why" "record of VF ${V[1]} is kept" "$out"
check_match "  ... tenant A keeps its VF as configured" 'vlan 100, qos 3' "$(vfline "$PF" 1)"
check_match "  ... and its net1" "$AMAC" "$(pod_has "$ns" net1)"
ip netns del "$ns"
out=$(DM release "${V[1]}"); rc=$?
check_eq "devmgr release after the netns died: exit 0" "0 released ${V[1]}" "$rc $out"
as_before "devmgr release" 1
tenant_b "after release" 1

section "the next ADD reclaims tenant A's stale record"
tenant_a 2 rca
tenant_b "stale reclaim" 2

section "a restore the driver refuses keeps the record, and says so"
tenant_a 3 bad
# the saved state asks for what igb refuses (802.1ad): the restore cannot complete
sed -i 's/"vlan":0,"qos":0,"vlanProto":33024/"vlan":5,"qos":0,"vlanProto":34984/' "$STATE/vfs/${V[3]}.json"
check_match "record edited to a saved vlan 5 802.1ad" '"vlan":5,"qos":0,"vlanProto":34984' "$(record "${V[3]}")"
out=$(DM gc); rc=$?
check_eq "devmgr gc with a refused restore: exit 1" 1 "$rc"
check_match "  ... says the record is kept" "1 stale record kept" "$out"
check_eq "  ... the record is still there" ctr-bad "$(record "${V[3]}" | sed -n 's/.*"owner":"\([^"]*\)".*/\1/p')"
out=$(DM release "${V[3]}"); rc=$?
check_eq "devmgr release with a refused restore: exit 1" 1 "$rc"
check_match "  ... names the refused setting and keeps the record" \
	"refused vlan 5 vlanQoS 0 vlanProto 802.1ad.*its record is kept" "$out"
ns=$(mkns bad2)
add "$ns" ctr-bad2 net1 "$(cf 1.1.0 "\"deviceID\":\"${V[3]}\"")"
expect_err "the next ADD cannot reclaim it" 100 "refused vlan 5 vlanQoS 0 vlanProto 802.1ad"
check_eq "  ... the record still names tenant A" ctr-bad "$(record "${V[3]}" | sed -n 's/.*"owner":"\([^"]*\)".*/\1/p')"
check_eq "  ... nothing in B's pod" "lo" "$(ip -n "$ns" -o link | awk -F': ' '{print $2}' | xargs)"
out=$(DM release --force "${V[3]}"); rc=$?
check_eq "devmgr release --force drops it anyway" "0 released ${V[3]}" "$rc $out"
check_match "  ... the VF keeps what it has (tenant A's vlan)" 'vlan 100' "$(vfline "$PF" 3)"
ip netns del "$ns"
tenant_b "after a forced drop (ADD brings the VF to the baseline)" 3 forced

section "a VF dirtied behind ucni's back: ADD hands it out at the baseline"
ip link set "$PF" vf 1 vlan 200 qos 1 spoofchk off trust on mac 02:00:00:0b:0b:0b
check_match "VF 1 dirtied through the PF" '02:00:00:0b:0b:0b.*vlan 200, qos 1.*spoof checking off.*trust on' "$(vfline "$PF" 1)"
AMAC=02:00:00:0b:0b:0b
ns=$(mkns dirty)
add "$ns" ctr-dirty net1 "$(cf 1.1.0 "\"deviceID\":\"${V[1]}\"")"
expect_ok "ADD on the dirty VF (no VF keys)"
clean "dirty VF at ADD" 1
del "$ns" ctr-dirty net1 "$(cf 1.1.0 "\"deviceID\":\"${V[1]}\"")"
expect_ok "DEL"
clean "dirty VF after DEL" 1
check_eq "  ... no record left" "" "$(record "${V[1]}")"
finish
