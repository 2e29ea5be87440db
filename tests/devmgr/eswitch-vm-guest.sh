#!/bin/bash
# The eswitch mode over devlink, INSIDE the VM (tests/devmgr/eswitch-vm.sh boots it with
# netdevsim and one igb NIC):
#
#   netdevsim/netdevsimN (devlink eswitch) ── port P ── VFs 0..n (no netdevs)
#        switchdev: representors on P's switch, phys_port_name pf0vf<N>
#   igb PF (no devlink eswitch)
#
# legacy -> switchdev with the VFs kept, representors in status; count changes in
# switchdev; switchdev -> legacy; a set that changes nothing; every step of the default and
# the mlx5 list failed by a fault point (the FAULTS=1 tool): mode and VF count as before;
# igb: a clear "no devlink eswitch" (exit 7), nothing changed; status on the real /sys.
. "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "eswitch-vm-guest.sh runs inside the VM (tests/devmgr/eswitch-vm.sh)"; exit 2; }

TOOL=$UCNI_TOP/$BUILD/tests/devmgr/eswitch_tool
FTOOL=$UCNI_TOP/build/fault/tests/devmgr/eswitch_tool
DM=("$UCNI_BIN/devmgr" --state-dir "$T_TMP/state")
wait_for() { local i; for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done; return 1; }

id=$((RANDOM % 900 + 100))
H=netdevsim/netdevsim$id
nsd=/sys/bus/netdevsim/devices/netdevsim$id
echo "$id 1" >/sys/bus/netdevsim/new_device || { fail "netdevsim device $id"; finish; }
on_exit "echo $id >/sys/bus/netdevsim/del_device"
wait_for 3 compgen -G "$nsd/net/*" >/dev/null || { fail "netdevsim port appears"; finish; }
P=$(ls "$nsd/net" | head -n1)
ip link set "$P" up
echo 2 >"$nsd/sriov_numvfs"

# the representors on P's switch: their phys_port_name, sorted
reps() {
	local sw n
	sw=$(cat "/sys/class/net/$P/phys_switch_id" 2>/dev/null) || return
	for n in /sys/class/net/*; do
		[ "$(cat "$n/phys_switch_id" 2>/dev/null)" = "$sw" ] || continue
		cat "$n/phys_port_name" 2>/dev/null
	done | grep '^pf[0-9]*vf' | sort | tr '\n' ' '
}
state() { echo "$("$TOOL" get "$H" 2>&1) $(cat "$nsd/sriov_numvfs") [$(reps)]"; }
# esw [FAULT=point] MODE N — the tool's set; its stdout in OUT, stderr in ERR, status in RC
esw() {
	local tool=$TOOL env=()
	if [[ $1 == *=* ]]; then tool=$FTOOL env=("UCNI_FAULT=${1#*=}") && shift; fi
	OUT=$(env "${env[@]}" "$tool" set "$H" "$@" 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
}

section "netdevsim: legacy -> switchdev -> legacy"
check_eq "starts in legacy with 2 VFs, no representors" "legacy 2 []" "$(state)"
st=$("${DM[@]}" status "$H" --json)
check_eq "status: its port, ETH, up, legacy, 2 VFs, no representors" "[\"$P\",\"ETH\",\"up\",\"legacy\",2,[null,null]]" \
	"$(jq -c '.interfaces[0] | [.name,.linkType,.linkAdminState,.eSwitchMode,.numVfs,[.Vfs[].representorName]]' <<<"$st")"
ip link set "$P" vf 1 vlan 7
st=$("${DM[@]}" status "$H" --json)
check_eq "status: each VF's VLAN from the PF over netlink" '[0,7]' "$(jq -c '[.interfaces[0].Vfs[].Vlan]' <<<"$st")"
esw switchdev 2
check_eq "set switchdev 2: changed" "0 changed" "$RC $OUT"
check_eq "switchdev with the 2 VFs kept, a representor each" "switchdev 2 [pf0vf0 pf0vf1 ]" "$(state)"
st=$("${DM[@]}" status "$H" --json)
rep0=$(for n in /sys/class/net/*; do [ "$(cat "$n/phys_port_name" 2>/dev/null)" = pf0vf0 ] && echo "${n##*/}"; done)
check_eq "status: switchdev, the representors by name" "[\"switchdev\",\"$rep0\"]" \
	"$(jq -c '.interfaces[0] | [.eSwitchMode,.Vfs[0].representorName]' <<<"$st")"
check "status: every VF has a representor" jq -e '[.interfaces[0].Vfs[].representorName | strings] | length == 2' <<<"$st"
tbl=$("${DM[@]}" status)
check_match "status table: the representor column" "vf0 +- +- +- +- +[0-] +- +$rep0" "$tbl"
check "status table fits 100 columns" test "$(LC_ALL=C.UTF-8 wc -L <<<"$tbl")" -le 100
esw switchdev 2
check_eq "set switchdev 2 again: unchanged" "0 unchanged" "$RC $OUT"
check_eq "... and nothing moved" "switchdev 2 [pf0vf0 pf0vf1 ]" "$(state)"
esw switchdev 3
check_eq "switchdev, 3 VFs: the count alone changes" "0 switchdev 3 [pf0vf0 pf0vf1 pf0vf2 ]" "$RC $(state)"
esw switchdev 0
check_eq "switchdev, 0 VFs: netdevsim's fall back to legacy is put right" "0 switchdev 0 []" "$RC $(state)"
esw switchdev 2
check_eq "switchdev, 2 VFs again" "0 switchdev 2 [pf0vf0 pf0vf1 ]" "$RC $(state)"
esw legacy 2
check_eq "set legacy 2: legacy, VFs kept, representors gone" "0 legacy 2 []" "$RC $(state)"
esw legacy 1
check_eq "legacy, 1 VF" "0 legacy 1 []" "$RC $(state)"
esw switchdev 2
check_eq "legacy 1 -> switchdev 2 in one call" "0 switchdev 2 [pf0vf0 pf0vf1 ]" "$RC $(state)"
esw legacy 2

section "every step failed: the PF as it was"
if [ ! -x "$FTOOL" ]; then
	fail "the FAULTS=1 tool" "$FTOOL missing (tests/devmgr/eswitch-vm.sh builds it)"
	finish
fi
# default list (netdevsim): 1 VFs to 0, 2 switch, 3 VFs to the count wanted
for f in eswitch.numvfs:1 eswitch.set:2 "eswitch.numvfs#2:3"; do
	point=${f%:*} n=${f##*:}
	for dir in "legacy switchdev" "switchdev legacy"; do
		read -r from to <<<"$dir"
		esw "$from" 2
		before=$(state)
		esw "FAULT=$point" "$to" 2
		check_eq "$point, $from -> $to: fails, the PF back as it was" "1 $before" "$RC $(state)"
		check_match "... the error names step $n and the state" "step $n of 3, .*, failed: .*undone: the PF is $from with 2 VFs" "$ERR"
	done
done
# the mlx5 list (simulated on netdevsim): 1 VFs in legacy, 2 unbind, 3 switch, 4 rebind
for f in eswitch.unbind:2 eswitch.set:3 eswitch.bind:4; do
	point=${f%:*} n=${f##*:}
	esw legacy 2
	before=$(state)
	UCNI_FAULT_SIMULATE=eswitch-mlx5 esw "FAULT=$point" switchdev 2
	check_eq "mlx5 list, $point, legacy -> switchdev: the PF back as it was" "1 $before" "$RC $(state)"
	check_match "... step $n of 4 named" "step $n of 4, .*failed: .*undone: the PF is legacy with 2 VFs" "$ERR"
done
UCNI_FAULT_SIMULATE=eswitch-mlx5 esw "FAULT=eswitch.none" switchdev 2
check_eq "mlx5 list without a fault: switchdev, VFs kept" "0 switchdev 2 [pf0vf0 pf0vf1 ]" "$RC $(state)"
esw legacy 2

section "no devlink eswitch: igb"
igb=$(basename "$(readlink -f /sys/bus/pci/drivers/igb/0000:* | head -n1)")
if [ -z "$igb" ] || [ ! -e "/sys/bus/pci/devices/$igb/sriov_numvfs" ]; then
	fail "an igb PF" "none found (boot with --igb 1)"
else
	n0=$(cat "/sys/bus/pci/devices/$igb/sriov_numvfs")
	out=$("$TOOL" get "$igb" 2>&1)
	check_eq "get: exit 7" 7 $?
	check_match "... a clear error" "Operation not supported: $igb" "$out"
	out=$("$TOOL" set "$igb" switchdev 2 2>&1)
	check_eq "set: exit 7" 7 $?
	check_match "... naming the PF and why" "$igb: no devlink eswitch" "$out"
	check_eq "... its VF count untouched" "$n0" "$(cat "/sys/bus/pci/devices/$igb/sriov_numvfs")"
	st=$("${DM[@]}" status "$igb" --json)
	check_eq "status: igb's eswitch mode is none, its driver igb" '["none","igb"]' \
		"$(jq -c '.interfaces[0] | [.eSwitchMode,.driver]' <<<"$st")"
fi
out=$("$TOOL" set netdevsim/netdevsim99999 legacy 0 2>&1)
check_eq "an absent device: exit 1" 1 $?
check_match "... named" "netdevsim/netdevsim99999: no such device" "$out"
finish
