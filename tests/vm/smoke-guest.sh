#!/bin/bash
# The VM rig's own checks, run INSIDE the VM by tests/vm/smoke.sh:
#   tests/vm/run --igb 1 --netdevsim -- tests/vm/smoke-guest.sh 'two  words' "it's \"q\" \$x"
# Basic guest set-up always; igb SR-IOV when an igb PF exists; netdevsim when loaded.
#
#   igb:       PF eth0 (0000:01:00.0, 8086:10c9) ── virtfn0..3 → VFs (8086:10ca, igbvf)
#   netdevsim: netdevsim<ID> with 4 VFs (no VF netdevs, no PCI devices)
. "$(dirname "$0")/../lib.sh"

[ "${UCNI_VM:-}" = 1 ] || { echo "smoke-guest.sh runs inside the VM (tests/vm/run)"; exit 2; }

# --- the command and its environment arrive intact ---------------------------------
check_eq "argument count" 2 "$#"
check_eq "argument with spaces survives" "two  words" "${1-}"
check_eq "argument with quotes and \$ survives" "it's \"q\" \$x" "${2-}"
check_eq "working directory preserved" "${UCNI_SMOKE_CWD:-unset}" "$PWD"
check_eq "UCNI_* passed through" "${UCNI_SMOKE_TOKEN:-unset}" "${UCNI_SMOKE_EXPECT:-}"
check_eq "T_ID passed through" "${UCNI_SMOKE_TID:-unset}" "${T_ID:-}"
check_eq "runs as root" 0 "$(id -u)"
check_match "guest kernel is Debian's 6.1" '^6\.1\.' "$(uname -r)"
check "stdout is not a terminal" test ! -t 1

# --- file systems: host read-only, scratch writable ------------------------------------
# (a checkout under /tmp is shared writable on purpose; /usr is the host root)
if touch /usr/.vm-write-test 2>/dev/null; then
	fail "host root is read-only" "created /usr/.vm-write-test"
	rm -f /usr/.vm-write-test
else
	ok "host root is read-only"
fi
for d in /tmp /var/tmp /run /var/lib/cni /etc/cni/net.d /dev/shm; do
	check "$d is writable" sh -c "echo x >$d/.w && rm $d/.w"
done
if [ -n "${UCNI_SMOKE_RW:-}" ]; then
	check "--rw directory is writable" sh -c "echo '$T_ID' >'$UCNI_SMOKE_RW/from-guest'"
fi
if ns=$(mkns smoke); then
	ok "ip netns add works"
	on_exit ip netns del "$ns" # mkns ran in a subshell: its own clean-up list is lost
else
	fail "ip netns add works"
fi
check "netns is under /var/run/netns" test -e "/var/run/netns/$ns"

# --- link kinds the host kernel lacks ---------------------------------------------------
check_eq "dummy made no dummy0 (numdummies=0)" "" "$(ip -br link show dummy0 2>/dev/null)"
check "dummy link" ip link add "${T_ID}d" type dummy
on_exit ip link del "${T_ID}d"
ip link set "${T_ID}d" up
check "ipvlan link on it" ip link add "${T_ID}i" link "${T_ID}d" type ipvlan mode l2
check_match "ipvlan link is kind ipvlan" 'ipvlan' "$(ip -d link show "${T_ID}i" 2>&1)"
check "ipvlan moves into a netns" ip link set "${T_ID}i" netns "$ns"
# a parent has either ipvlans or macvlans, never both: a second dummy for the rest
ip link add "${T_ID}e" type dummy && on_exit ip link del "${T_ID}e"
check "macvlan link" ip link add "${T_ID}m" link "${T_ID}e" type macvlan mode bridge
check "vlan link (8021q)" ip link add link "${T_ID}e" name "${T_ID}v" type vlan id 10
check "veth pair" ip link add "${T_ID}a" type veth peer name "${T_ID}b"
ip link del "${T_ID}a" 2>/dev/null

# --- igb: real SR-IOV PCI devices ----------------------------------------------------
# vf_read PF — one jq call (jq costs ~0.7 s per start under TCG) puts each VF's state into
# VF_MAC[n] VF_VLAN[n] VF_SPOOF[n] VF_TRUST[n] VF_RATE[n] VF_STATE[n] (JSON text).
vf_read() {
	local n mac vlan spoof trust rate state
	VF_MAC=() VF_VLAN=() VF_SPOOF=() VF_TRUST=() VF_RATE=() VF_STATE=()
	while IFS=$'\t' read -r n mac vlan spoof trust rate state; do
		VF_MAC[n]=$mac VF_VLAN[n]=$vlan VF_SPOOF[n]=$spoof VF_TRUST[n]=$trust
		VF_RATE[n]=$rate VF_STATE[n]=$state
	done < <(ip -j link show "$1" | jq -r '.[0].vfinfo_list[] | [.vf, .address,
		(.vlan_list | tojson), .spoofchk, .trust, (.rate | tojson), .link_state] | @tsv')
}
pfdev=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10c9 ] &&
		{ pfdev=$(readlink -f "$d"); break; }
done
if [ -z "$pfdev" ]; then
	skip "igb SR-IOV" "no igb device (run with --igb 1)"
else
	bdf=${pfdev##*/}
	check_eq "PF at /sys/bus/pci/devices/$bdf" "$pfdev" "$(readlink -f "/sys/bus/pci/devices/$bdf")"
	ok "igb PF $bdf is 8086:10c9"
	check_eq "PF class is network" 0x020000 "$(cat "$pfdev/class")"
	check_eq "PF driver is igb" igb "$(basename "$(readlink "$pfdev/driver")")"
	check_eq "PF sriov_totalvfs" 7 "$(cat "$pfdev/sriov_totalvfs")"
	pf=$(ls "$pfdev/net" | head -n1)
	t0=$(date +%s%N)
	if up=$(tests/vm/guest-sriov-up 4 2>&1); then
		ok "guest-sriov-up 4: $up"
	else
		fail "guest-sriov-up 4" "$up"
	fi
	echo "# igb: 4 VFs up with carrier and netdevs in $((($(date +%s%N) - t0) / 1000000)) ms"
	check_eq "sriov_numvfs" 4 "$(cat "$pfdev/sriov_numvfs")"
	for i in 0 1 2 3; do
		vf=$(readlink -f "$pfdev/virtfn$i")
		check_eq "virtfn$i/physfn points back to the PF" "$pfdev" "$(readlink -f "$vf/physfn")"
		check_eq "VF $i is 8086:10ca" "0x8086:0x10ca" "$(cat "$vf/vendor"):$(cat "$vf/device")"
		check_eq "VF $i driver is igbvf" igbvf "$(basename "$(readlink "$vf/driver")")"
		check_match "VF $i has a netdev" '^eth[0-9]+$' "$(ls "$vf/net" 2>/dev/null)"
	done
	check "PF: vf 0 mac" ip link set "$pf" vf 0 mac 02:00:00:00:00:10
	check "PF: vf 1 vlan 100 qos 3" ip link set "$pf" vf 1 vlan 100 qos 3
	check "PF: vf 2 spoofchk off" ip link set "$pf" vf 2 spoofchk off
	check "PF: vf 3 trust on" ip link set "$pf" vf 3 trust on
	check "PF: vf 3 max_tx_rate 100" ip link set "$pf" vf 3 max_tx_rate 100
	vf_read "$pf"
	check_eq "vf 0 mac reads back" 02:00:00:00:00:10 "${VF_MAC[0]-}"
	check_eq "vf 1 vlan/qos read back" '[{"vlan":100,"qos":3}]' "${VF_VLAN[1]-}"
	check_eq "vf 2 spoofchk reads back" false "${VF_SPOOF[2]-}"
	check_eq "vf 3 trust reads back" true "${VF_TRUST[3]-}"
	check_eq "vf 3 max_tx_rate reads back" '{"max_tx":100,"min_tx":0}' "${VF_RATE[3]-}"
	check_match "ip link show PF lists the settings" \
		'vf 1 .*vlan 100, qos 3.*vf 2 .*spoof checking off.*vf 3 .*trust on' \
		"$(ip link show "$pf" | tr '\n' ' ')"
	# Known igb limits (netdevsim covers these): the refusal must be an error, not silence.
	if ip link set "$pf" vf 1 vlan 100 proto 802.1ad 2>/dev/null; then
		fail "igb refuses vlan proto 802.1ad" "accepted"
	else
		ok "igb refuses vlan proto 802.1ad"
	fi
	check "sriov_numvfs back to 0" sh -c "echo 0 >$pfdev/sriov_numvfs"
	check_eq "VFs gone" "" "$(ls -d "$pfdev"/virtfn* 2>/dev/null)"
fi

# --- netdevsim: VF settings igb lacks -------------------------------------------------
if [ ! -d /sys/bus/netdevsim ]; then
	skip "netdevsim" "not loaded (run with --netdevsim)"
else
	id=$((RANDOM % 900 + 100))
	check "netdevsim new_device $id" sh -c "echo '$id 1' >/sys/bus/netdevsim/new_device"
	on_exit "echo $id >/sys/bus/netdevsim/del_device"
	nsd=/sys/bus/netdevsim/devices/netdevsim$id
	for ((i = 0; i < 30; i++)); do compgen -G "$nsd/net/*" >/dev/null && break; sleep 0.1; done
	nsp=$(ls "$nsd/net" 2>/dev/null | head -n1)
	check_match "netdevsim port netdev" '.+' "$nsp"
	check "netdevsim sriov_numvfs 4" sh -c "echo 4 >$nsd/sriov_numvfs"
	vf_read "$nsp"
	check_eq "netdevsim lists 4 VFs" 4 "${#VF_MAC[@]}"
	check "vf 0 state disable" ip link set "$nsp" vf 0 state disable
	check "vf 1 min_tx_rate 10 max_tx_rate 100" ip link set "$nsp" vf 1 min_tx_rate 10 max_tx_rate 100
	check "vf 2 vlan 100 proto 802.1ad" ip link set "$nsp" vf 2 vlan 100 proto 802.1ad
	check "vf 3 mac/spoofchk/trust" ip link set "$nsp" vf 3 mac 02:00:00:00:01:03 spoofchk on trust on
	vf_read "$nsp"
	check_eq "vf 0 link-state reads back" disable "${VF_STATE[0]-}"
	check_eq "vf 1 rates read back" '{"max_tx":100,"min_tx":10}' "${VF_RATE[1]-}"
	check_eq "vf 2 vlan proto reads back" '[{"vlan":100,"protocol":"802.1ad"}]' "${VF_VLAN[2]-}"
	check_eq "vf 3 mac reads back" 02:00:00:00:01:03 "${VF_MAC[3]-}"
	check_eq "vf 3 spoofchk/trust read back" true/true "${VF_SPOOF[3]-}/${VF_TRUST[3]-}"
	check_match "ip link show lists the settings" \
		'vf 0 .*link-state disable.*min_tx_rate 10Mbps.*vlan protocol 802.1ad' \
		"$(ip link show "$nsp" | tr '\n' ' ')"
fi
finish
