#!/bin/bash
# devmgr against real VFs, INSIDE the VM (tests/devmgr/vm.sh boots it with --igb 2):
#
#   PF A (igb 8086:10c9) ──virtfn0..N──> VFs 8086:10ca (igbvf)     PF B: left at 0 VFs
#
# list agrees with lspci and sysfs; vfs creates, changes (through 0) and removes real VFs;
# watch reports them appearing, and their netdevs going (link-removed); the VF settings
# come from the PF over netlink; apply + pools + alloc over real VFs; vfs and apply refuse
# to change the count under allocations.
. "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "vm-guest.sh runs inside the VM (tests/devmgr/vm.sh)"; exit 2; }

DM=("$UCNI_BIN/devmgr" --state-dir "$T_TMP/state")
pfs=()
for d in /sys/bus/pci/drivers/igb/0000:*; do [ -d "$d/net" ] && pfs+=("${d##*/}"); done
check_eq "two igb PFs" 2 "${#pfs[@]}"
[ "${#pfs[@]}" -ge 1 ] || finish
A=${pfs[0]}
AN=$(ls "/sys/bus/pci/devices/$A/net")
SA=/sys/bus/pci/devices/$A
wait_for() { local i; for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done; return 1; }

# ---- list agrees with lspci and sysfs
out=$("${DM[@]}" list --json)
check_eq "list --json exits 0" 0 $?
check_eq "list: the network functions lspci shows" \
	"$(lspci -D -n | awk '$2 == "0200:" {print $1}' | sort)" \
	"$(jq -r '(.pfs[] | .pciAddress, .vfs[].pciAddress), .nics[].pciAddress' <<<"$out" | sort)"
check_eq "list: PF $A is igb 8086:10c9 with sriov_totalvfs VFs" "igb 8086:10c9 $(cat "$SA/sriov_totalvfs") $AN" \
	"$(jq -r --arg a "$A" '.pfs[] | select(.pciAddress == $a) | "\(.driver) \(.vendorId):\(.deviceId) \(.totalVfs) \(.netdev)"' <<<"$out")"
check_eq "list: names from pci.ids as lspci has them" "$(lspci -s "$A" -mm | awk -F'"' '{print $4}')" \
	"$(jq -r --arg a "$A" '.pfs[] | select(.pciAddress == $a) | .vendor' <<<"$out")"

# ---- watch + vfs: real VFs appear
ip link set "$AN" up
"${DM[@]}" watch --timeout 8 >"$T_TMP/watch" 2>"$T_TMP/watch.err" &
wpid=$!
sleep 0.5
out=$("${DM[@]}" vfs "$AN" 2 2>&1)
check_eq "vfs $AN 2" "$AN ($A): numVfs 0 -> 2" "$out"
check_eq "sriov_numvfs is 2" 2 "$(cat "$SA/sriov_numvfs")"
vf0=$(basename "$(readlink "$SA/virtfn0")")
vf1=$(basename "$(readlink "$SA/virtfn1")")
check "two VFs exist in sysfs" test -e "/sys/bus/pci/devices/$vf0/physfn" -a -e "/sys/bus/pci/devices/$vf1/physfn"
wait "$wpid"
check_eq "watch ended by its timeout" 0 $?
adds=$(jq -r 'select(.event == "add" and .subsystem == "pci") | .pciAddress' "$T_TMP/watch" 2>/dev/null | sort -u | tr '\n' ' ')
check_eq "watch reported both VFs appearing" "$(printf '%s\n' "$vf0" "$vf1" | sort | tr '\n' ' ')" "$adds"
check "every watch line is JSON with a time" jq -e -s 'length > 0 and all(.time != null)' "$T_TMP/watch"

out=$("${DM[@]}" vfs "$A" 3 2>&1)
check_eq "vfs from 2 to 3 (the kernel wants 0 in between)" "$AN ($A): numVfs 2 -> 3" "$out"
check_eq "sriov_numvfs is 3" 3 "$(cat "$SA/sriov_numvfs")"
out=$("${DM[@]}" vfs "$A" 3 2>&1)
check_eq "vfs with the current count" "$AN ($A): numVfs 3, unchanged" "$out"
total=$(cat "$SA/sriov_totalvfs")
"${DM[@]}" vfs "$A" $((total + 1)) >/dev/null 2>"$T_TMP/err"
check_eq "vfs above sriov_totalvfs: exit 7" 7 $?
check_eq "and nothing changed" 3 "$(cat "$SA/sriov_numvfs")"
out=$("${DM[@]}" list --json)
check_eq "list: the PF's VFs as sysfs has them" \
	"$(for i in 0 1 2; do basename "$(readlink "$SA/virtfn$i")"; done | tr '\n' ' ')" \
	"$(jq -r --arg a "$A" '.pfs[] | select(.pciAddress == $a) | .vfs[].pciAddress' <<<"$out" | tr '\n' ' ')"
check_eq "list: VFs are 8086:10ca" "8086:10ca" \
	"$(jq -r --arg a "$A" '[.pfs[] | select(.pciAddress == $a) | .vfs[] | "\(.vendorId):\(.deviceId)"] | unique | join(" ")' <<<"$out")"
out=$("${DM[@]}" vfs "$AN" 0 2>&1)
check_eq "vfs to 0" "$AN ($A): numVfs 3 -> 0" "$out"
check "the VFs are gone" test ! -e "$SA/virtfn0"

# ---- apply + pools + alloc over real VFs
cat >"$T_TMP/conf.json" <<EOC
{"pfs": [{"pciAddress": "$A", "numVfs": 4}],
 "resourceList": [{"resourceName": "igb_vf", "selectors": {"vendors": ["8086"], "devices": ["10ca"], "pfNames": ["$AN#0-3"]}}]}
EOC
out=$("${DM[@]}" apply "$T_TMP/conf.json" 2>&1)
check_match "apply creates 4 VFs" "numVfs 0 -> 4" "$out"
check_eq "sriov_numvfs is 4" 4 "$(cat "$SA/sriov_numvfs")"
wait_for 15 grep -qx 1 "/sys/class/net/$AN/carrier" || fail "PF $AN has carrier"
out=$("${DM[@]}" pools --json)
check_eq "without a VF driver the VFs are unhealthy" "4 4" "$(jq -r '.pools[0] | "\(.total) \(.unhealthy)"' <<<"$out")"
modprobe igbvf
has_vf_netdevs() { local i; for i in 0 1 2 3; do compgen -G "$SA/virtfn$i/net/*" >/dev/null || return 1; done; }
wait_for 15 has_vf_netdevs || fail "VF netdevs appear"
out=$("${DM[@]}" pools --json)
check_eq "with igbvf bound: 4 free" "4 4 0" "$(jq -r '.pools[0] | "\(.total) \(.free) \(.unhealthy)"' <<<"$out")"
# a VF's MAC, operstate, carrier and type come from one RTM_GETLINK dump on /sys: as its
# netdev's files show them, with one VF link up and the others down (no carrier file then)
vfdev() { ls "$SA/virtfn$1/net" 2>/dev/null; }
up=$(vfdev 1)
[ -n "$up" ] && ip link set "$up" up && wait_for 10 grep -qx up "/sys/class/net/$up/operstate"
sysfs_facts() {
	local i p n c
	for i in 0 1 2 3; do
		p=$(basename "$(readlink "$SA/virtfn$i")") n=$(vfdev "$i")
		[ -n "$n" ] || continue
		c=$(cat "/sys/class/net/$n/carrier" 2>/dev/null) || c=null
		case $c in 1) c=true ;; 0) c=false ;; esac
		echo "$p $n $(cat "/sys/class/net/$n/address") $(cat "/sys/class/net/$n/operstate") $c" \
			"$(sed 's/^1$/ether/' "/sys/class/net/$n/type")"
	done
}
facts=$(sysfs_facts)
check_eq "four VF netdevs, one of them up with carrier" "4 1" \
	"$(wc -l <<<"$facts") $(grep -c ' up true ether$' <<<"$facts")"
out=$("${DM[@]}" list --json)
check_eq "list: the VFs' netdev facts (from the dump) as sysfs has them" "$facts" \
	"$(jq -r --arg a "$A" '.pfs[] | select(.pciAddress == $a) | .vfs[] | select(.netdev != null) |
		"\(.pciAddress) \(.netdev) \(.mac) \(.operstate) \(.carrier) \(.linkType)"' <<<"$out")"
check_eq "show of the VF that is up: the same facts" "$(sed -n 2p <<<"$facts")" \
	"$("${DM[@]}" show "$(basename "$(readlink "$SA/virtfn1")")" --json |
		jq -r '"\(.pciAddress) \(.netdev) \(.mac) \(.operstate) \(.carrier) \(.linkType)"')"
[ -n "$up" ] && ip link set "$up" down
out=$("${DM[@]}" apply "$T_TMP/conf.json" 2>&1)
check_eq "apply again changes nothing" "apply: nothing to change" "$(tail -n1 <<<"$out")"

ns=$(mkns vf)
got=() byidx=""
for i in 1 2 3 4; do
	out=$("${DM[@]}" alloc --pool igb_vf --owner "ctr$i" --ifname net1 --netns "/var/run/netns/$ns" --json)
	got+=("$(jq -r .pciAddress <<<"$out")")
	vfdev=$(jq -r .netdev <<<"$out")
	byidx="$byidx${byidx:+ }$(basename "$(readlink "$SA/virtfn$(jq -r .vfIndex <<<"$out")")")"
done
check_eq "4 allocations, 4 different VFs" 4 "$(printf '%s\n' "${got[@]}" | sort -u | grep -c 0000:)"
# alloc reads sysfs VF by VF (no inventory) and takes a VF's index from the PF's
# sriov_offset/sriov_stride checked against its virtfn link: both must match the kernel's
check_eq "alloc takes the VFs in address order" \
	"$(for i in 0 1 2 3; do basename "$(readlink "$SA/virtfn$i")"; done | sort | xargs)" "${got[*]}"
check_eq "each alloc's vfIndex is its virtfn link" "${got[*]}" "$byidx"
check_eq "the record's netdev is the VF's" "$(ls "/sys/bus/pci/devices/${got[3]}/net")" "$vfdev"
"${DM[@]}" alloc --pool igb_vf --owner ctr5 >/dev/null 2>&1
check_eq "a fifth: no free VF (exit 5)" 5 $?

# ---- the VF count does not change under allocations (the VFs would leave their pods)
"${DM[@]}" vfs "$AN" 2 >/dev/null 2>"$T_TMP/err"
check_eq "vfs under 4 allocations: exit 6" 6 $?
check_match "it names each VF's owner" "vf0 ${got[0]} [^:]*: owner ctr1, ifname net1, pool igb_vf" "$(cat "$T_TMP/err")"
check_eq "it names all four" 4 "$(grep -c ': owner ctr' "$T_TMP/err")"
"${DM[@]}" apply "$T_TMP/conf.json" >/dev/null 2>&1
check_eq "apply with the current count is not refused" 0 $?
sed 's/"numVfs": 4/"numVfs": 3/' "$T_TMP/conf.json" >"$T_TMP/conf3.json"
"${DM[@]}" apply "$T_TMP/conf3.json" >/dev/null 2>"$T_TMP/err"
check_eq "apply changing the count under allocations: exit 6" 6 $?
check_eq "the PF keeps its 4 VFs and their netdevs" "4 $vfdev" \
	"$(cat "$SA/sriov_numvfs") $(ls "/sys/bus/pci/devices/${got[3]}/net" 2>/dev/null)"

# ---- driver unbind/bind: watch sees it, the VF turns unhealthy and back
vf3=$(basename "$(readlink "$SA/virtfn3")")
"${DM[@]}" watch --timeout 4 >"$T_TMP/watch2" 2>/dev/null &
wpid=$!
sleep 0.5
echo "$vf3" >/sys/bus/pci/drivers/igbvf/unbind
out=$("${DM[@]}" list --json)
check_eq "unbound VF: unhealthy, no-driver" 'false ["no-driver"]' \
	"$(jq -c -r --arg a "$vf3" '.pfs[].vfs[] | select(.pciAddress == $a) | "\(.healthy) \(.problems | tojson)"' <<<"$out")"
echo "$vf3" >/sys/bus/pci/drivers/igbvf/bind
wait "$wpid"
check_eq "watch: unbind then bind of $vf3" "unbind bind" \
	"$(jq -r --arg a "$vf3" 'select(.subsystem == "pci" and .pciAddress == $a and (.event == "bind" or .event == "unbind")) | .event' "$T_TMP/watch2" | tr '\n' ' ' | sed 's/ $//')"
out=$("${DM[@]}" show "$vf3" --json)
check_eq "bound again: healthy, igbvf" "true igbvf" "$(jq -r '"\(.healthy) \(.driver)"' <<<"$out")"

# ---- VF settings as the PF reports them (netlink, RTEXT_FILTER_VF)
ip link set "$AN" vf 1 vlan 42 qos 3
ip link set "$AN" vf 1 mac 02:00:00:00:42:01
ip link set "$AN" vf 1 spoofchk off
vf1=$(basename "$(readlink "$SA/virtfn1")")
out=$("${DM[@]}" show "$vf1" --json)
check_eq "show: VF 1 settings from the PF" "42 3 02:00:00:00:42:01 false" \
	"$(jq -r '.config | "\(.vlan) \(.qos) \(.mac) \(.spoofchk)"' <<<"$out")"
check_eq "show: agrees with ip link" "$(ip -j link show "$AN" | jq -r '.[0].vfinfo_list[1].address')" \
	"$(jq -r .config.mac <<<"$out")"

# ---- the PF's link goes down: its VFs are unhealthy, gc after the netns goes
ip link set "$AN" down
out=$("${DM[@]}" pools --json)
check_eq "PF down: members unhealthy" "false" "$(jq -r '[.pools[0].members[].healthy] | unique | join(" ")' <<<"$out")"
ip netns del "$ns"
out=$("${DM[@]}" gc)
check_eq "gc releases the 4 whose netns is gone" "released 4 stale allocations" "$out"

# ---- watch: the VF netdevs disappearing show up as link-removed (RTM_DELLINK), each
# with its VF's PCI address
want=$(for i in 0 1 2 3; do v=$(basename "$(readlink "$SA/virtfn$i")"); echo "$(ls "$SA/virtfn$i/net") $v"; done | sort)
"${DM[@]}" watch --timeout 8 >"$T_TMP/watch3" 2>"$T_TMP/watch3.err" &
wpid=$!
wait_for 5 grep -q watching "$T_TMP/watch3.err"
"${DM[@]}" vfs "$AN" 0 >/dev/null
check_eq "VFs removed at the end" 0 "$(cat "$SA/sriov_numvfs")"
wait "$wpid"
check_eq "watch: link-removed for each VF netdev, with its PCI address" "$want" \
	"$(jq -r 'select(.event == "link-removed") | "\(.netdev) \(.pciAddress)"' "$T_TMP/watch3" | sort)"
finish
