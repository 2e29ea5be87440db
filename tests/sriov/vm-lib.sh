# Helpers of the sriov suites that run inside the test VM (vm-suite.sh, isolation-guest.sh);
# sourced after tests/lib.sh, with PLUGIN, NET and STATE set.
# Process starts are slow under TCG (jq ≈0.35 s): output is parsed in bash.
# cf VERSION 'MEMBERS' — a plugin config
cf() { echo "{\"cniVersion\":\"$1\",\"name\":\"$NET\",\"type\":\"sriov\"${2:+,$2}}"; }
with_prev() { echo "${1%\}},\"prevResult\":$2}"; }
static_ipam() { echo "\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"$1\"}]}"; }
# vfline PF N — the PF's line about VF N (mac, vlan, spoofchk, trust, rates, link state)
vfline() { ip link show "$1" | sed -n "s/^ *vf $2 //p"; }
# netdev NAME — "name mac mtu UP|DOWN" of a node netdev
netdev() {
	local l
	l=$(ip -o link show "$1" 2>/dev/null) || { echo "absent"; return; }
	local name=${l#*: } flags mtu mac
	name=${name%%:*}
	flags=${l#*<}
	flags=${flags%%>*}
	mtu=${l#* mtu }
	mtu=${mtu%% *}
	mac=${l#*link/ether }
	mac=${mac%% *}
	[[ ",$flags," == *,UP,* ]] && flags=UP || flags=DOWN
	echo "$name $mac $mtu $flags"
}
vf_netdev() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n1; } # by PCI address
record() { cat "$STATE/vfs/$1.json" 2>/dev/null; }
add() { cni ADD "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
del() { cni DEL "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
chk() { cni CHECK "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
pod_has() { ip -n "$1" -o link show "$2" 2>/dev/null; }
