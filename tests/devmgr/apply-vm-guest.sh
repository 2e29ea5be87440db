#!/bin/bash
# devmgr apply on real SR-IOV, INSIDE the VM (tests/devmgr/apply-vm.sh boots it with
# tests/vm/run --iommu --igb 1: an emulated igb behind an emulated Intel IOMMU):
#
#   PF A (igb) ──virtfn0,1──> vfio-pci (/dev/vfio/<group>)      config: numVfs 4, mtu 9000
#              ──virtfn2,3──> igbvf, MTU 9000, trust on, spoofchk off
#
# --check (exit 9) before, apply, a second apply with nothing to change; drift (VF MTU,
# trust, a VF driver) found by --check and repaired by apply; vfio-pci back to the default
# driver; the PF MTU never lowered; externallyManaged; each step's injected failure
# (build/fault/bin/devmgr) leaving the PF and its VFs as they were.
. "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "apply-vm-guest.sh runs inside the VM (tests/devmgr/apply-vm.sh)"; exit 2; }

DM=("$UCNI_BIN/devmgr" --state-dir "$T_TMP/state")
DMF=("$UCNI_TOP/build/fault/bin/devmgr" --state-dir "$T_TMP/state")
wait_for() { local i; for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done; return 1; }
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)"; }
vf_of() { basename "$(readlink "$SA/virtfn$1")"; }
vf_netdev() { ls "/sys/bus/pci/devices/$(vf_of "$1")/net" 2>/dev/null | head -n1; }
# vf_attrs N — "trust on|off spoofchk on|off" of VF N as the PF reports it
vf_attrs() {
	ip -j link show "$AN" | jq -r --argjson n "$1" '.[0].vfinfo_list[] | select(.vf == $n) |
		"trust \(if .trust then "on" else "off" end) spoofchk \(if .spoofchk then "on" else "off" end)"'
}
# state — the PF and its VFs, independent of the VF netdevs' names (a rebind renames them)
state() {
	local i n
	n=$(cat "$SA/sriov_numvfs")
	echo "numvfs $n mtu $(cat "$SYSNET/mtu") flags $(cat "$SYSNET/flags")"
	for ((i = 0; i < n; i++)); do
		local nd
		nd=$(vf_netdev "$i")
		echo "vf $i $(driver_of "$(vf_of "$i")") override=$(cat "/sys/bus/pci/devices/$(vf_of "$i")/driver_override")" \
			"mtu ${nd:+$(cat "/sys/class/net/$nd/mtu")} $(vf_attrs "$i")"
	done
}
# dm ARGS… / dmf ARGS… — stdout in $OUT, stderr in $ERR, status in $RC
dm() { OUT=$("${DM[@]}" "$@" 2>"$T_TMP/err"); RC=$?; ERR=$(cat "$T_TMP/err"); }
dmf() { OUT=$("${DMF[@]}" "$@" 2>"$T_TMP/err"); RC=$?; ERR=$(cat "$T_TMP/err"); }

pfs=()
for d in /sys/bus/pci/drivers/igb/0000:*; do [ -d "$d/net" ] && pfs+=("${d##*/}"); done
check_eq "one igb PF" 1 "${#pfs[@]}"
[ "${#pfs[@]}" -ge 1 ] || finish
A=${pfs[0]}
SA=/sys/bus/pci/devices/$A
AN=$(ls "$SA/net")
SYSNET=/sys/class/net/$AN
check_match "the kernel runs with the Intel IOMMU" 'DMAR: IOMMU enabled' "$(dmesg)"
check_eq "vfio-pci is loaded" yes "$([ -d /sys/bus/pci/drivers/vfio-pci ] && echo yes)"
modprobe igbvf
check_eq "igbvf is loaded" yes "$([ -d /sys/bus/pci/drivers/igbvf ] && echo yes)"

CONF=$T_TMP/conf.json
cat >"$CONF" <<EOC
{"pfs": [{"pciAddress": "$A", "numVfs": 4, "mtu": 9000, "vfGroups": [
  {"vfRange": "0-1", "driver": "vfio-pci"},
  {"vfRange": "2-3", "driver": "default", "mtu": 9000, "trust": "on", "spoofchk": "off"}]}]}
EOC

section "--check before anything: drift (exit 9), nothing changed"
before=$(state)
dm apply --check "$CONF"
check_eq "--check: exit 9" 9 "$RC"
check_match "numVfs named" "pf $A: numVfs 0 -> 4" "$OUT"
check_match "link named" "pf $A: $AN link down -> up" "$OUT"
check_match "PF MTU named" "pf $A: $AN mtu 1500 -> 9000" "$OUT"
check_eq "--check changed nothing" "$before" "$(state)"

section "apply: numVfs, link up, vfio-pci for VFs 0-1, PF MTU, VF MTU, trust, spoofchk"
dm apply "$CONF"
check_eq "apply: exit 0" "0" "$RC${ERR:+ $ERR}"
echo "$OUT" | sed 's/^/#   /'
check_eq "4 VFs" 4 "$(cat "$SA/sriov_numvfs")"
check_eq "PF up" 1 "$(($(cat "$SYSNET/flags") & 1))"
check_eq "PF MTU 9000" 9000 "$(cat "$SYSNET/mtu")"
check_eq "VFs 0 and 1 on vfio-pci" "vfio-pci vfio-pci" "$(driver_of "$(vf_of 0)") $(driver_of "$(vf_of 1)")"
g=$(basename "$(readlink "/sys/bus/pci/devices/$(vf_of 0)/iommu_group")")
check_eq "VF 0's /dev/vfio group" char "$([ -c "/dev/vfio/$g" ] && echo char)"
check_eq "VFs 2 and 3 on igbvf" "igbvf igbvf" "$(driver_of "$(vf_of 2)") $(driver_of "$(vf_of 3)")"
check_eq "VFs 2 and 3: MTU 9000" "9000 9000" "$(cat "/sys/class/net/$(vf_netdev 2)/mtu") $(cat "/sys/class/net/$(vf_netdev 3)/mtu")"
check_eq "VFs 2 and 3: trust on, spoofchk off" "trust on spoofchk off|trust on spoofchk off" "$(vf_attrs 2)|$(vf_attrs 3)"
check_eq "VFs 0 and 1 keep the kernel's defaults" "trust off spoofchk on" "$(vf_attrs 0)"
dm apply "$CONF"
check_eq "a second apply: nothing to change" "0 apply: nothing to change" "$RC $OUT"
dm apply --check "$CONF"
check_eq "--check after apply: exit 0, silent" "0 " "$RC $OUT"

section "the udev rules on the real devices (udevadm test; the guest's /etc is a tmpfs overlay)"
mkdir -p /etc/udev/rules.d && cp "$UCNI_TOP"/packaging/*.rules /etc/udev/rules.d/
out=$(udevadm test --action=add "$SA" 2>&1)
check_match "the PF's PCI device wants the re-apply unit" "SYSTEMD_WANTS=ucni-devmgr-reapply.service" "$out"
out=$(udevadm test --action=add "$SYSNET" 2>&1)
check_match "the PF's netdev wants the re-apply unit" "SYSTEMD_WANTS=ucni-devmgr-reapply.service" "$out"
check_eq "the PF's netdev is not marked unmanaged" "" "$(grep NM_UNMANAGED <<<"$out")"
out=$(udevadm test --action=add "/sys/class/net/$(vf_netdev 2)" 2>&1)
check_match "a VF netdev is unmanaged for NetworkManager" "NM_UNMANAGED=1" "$out"
check_eq "a VF netdev does not start the re-apply" "" "$(grep SYSTEMD_WANTS <<<"$out")"
out=$(udevadm test --action=add "/sys/bus/pci/devices/$(vf_of 2)" 2>&1)
check_eq "nor does a VF's PCI device" "" "$(grep SYSTEMD_WANTS <<<"$out")"
rm -f /etc/udev/rules.d/70-ucni-devmgr.rules /etc/udev/rules.d/71-ucni-vf-unmanaged.rules

section "drift: --check lists it (exit 9), apply repairs it"
ip link set "$(vf_netdev 2)" mtu 1500
ip link set "$AN" vf 3 trust off
echo "" >"/sys/bus/pci/devices/$(vf_of 1)/driver_override"
echo "$(vf_of 1)" >"/sys/bus/pci/devices/$(vf_of 1)/driver/unbind"
echo "$(vf_of 1)" >/sys/bus/pci/drivers_probe
check_eq "VF 1 moved to igbvf by hand" igbvf "$(driver_of "$(vf_of 1)")"
before=$(state)
dm apply --check "$CONF"
check_eq "--check: exit 9" 9 "$RC"
check_eq "each difference on its line" "pf $A: vf 1 ($(vf_of 1)): driver igbvf -> vfio-pci
pf $A: vf 2 $(vf_netdev 2) mtu 1500 -> 9000
pf $A: vf 3 trust off -> trust on
apply --check: 3 differences" "$OUT"
check_eq "--check changed nothing" "$before" "$(state)"
dm apply "$CONF"
check_eq "apply repairs it" "0 vfio-pci 9000 trust on spoofchk off" \
	"$RC $(driver_of "$(vf_of 1)") $(cat "/sys/class/net/$(vf_netdev 2)/mtu") $(vf_attrs 3)"
dm apply --check "$CONF"
check_eq "--check: the node matches again" 0 "$RC"

section "vfio-pci back to the default driver; the PF MTU never lowered"
cat >"$T_TMP/back.json" <<EOC
{"pfs": [{"pciAddress": "$A", "numVfs": 4, "mtu": 1500, "vfGroups": [{"vfRange": "0-1", "driver": "default"}]}]}
EOC
dm apply "$T_TMP/back.json"
check_eq "apply: exit 0" "0" "$RC${ERR:+ $ERR}"
check_eq "VFs 0 and 1 back on igbvf, no driver_override" "igbvf igbvf " \
	"$(driver_of "$(vf_of 0)") $(driver_of "$(vf_of 1)") $(cat "/sys/bus/pci/devices/$(vf_of 0)/driver_override" | sed 's/(null)//')"
check_eq "PF MTU still 9000 (mtu 1500 in the config)" 9000 "$(cat "$SYSNET/mtu")"
check_eq "only the drivers changed" "2 2" "$(grep -c 'driver vfio-pci -> default' <<<"$OUT") $(grep -c '^pf ' <<<"$OUT")"

section "externallyManaged"
echo "{\"pfs\": [{\"pciAddress\": \"$A\", \"numVfs\": 4, \"mtu\": 9000, \"externallyManaged\": true}]}" >"$T_TMP/ext.json"
before=$(state)
dm apply "$T_TMP/ext.json"
check_eq "satisfied: exit 0, no change to the PF" "0 0" "$RC $(grep -c '^pf ' <<<"$OUT")"
echo "{\"pfs\": [{\"pciAddress\": \"$A\", \"numVfs\": 5, \"mtu\": 9216, \"externallyManaged\": true}]}" >"$T_TMP/ext.json"
dm apply "$T_TMP/ext.json"
check_eq "more VFs and a larger MTU than the PF has: exit 3" 3 "$RC"
check_match "both named" "numVfs 5 wanted, 4 enabled.*mtu 9216 wanted, $AN has 9000" "$(tr '\n' ' ' <<<"$ERR")"
check_eq "nothing changed" "$before" "$(state)"

section "eswitchMode on igb (no devlink eswitch): exit 7, nothing changed"
echo "{\"pfs\": [{\"pciAddress\": \"$A\", \"numVfs\": 4, \"eswitchMode\": \"switchdev\"}]}" >"$T_TMP/esw.json"
before=$(state)
dm apply "$T_TMP/esw.json"
check_eq "exit 7" 7 "$RC"
check_match "named" "pfs\[0\]\.eswitchMode: .* has no devlink eswitch" "$ERR"
check_eq "nothing changed" "$before" "$(state)"

section "each step's injected failure: the PF and its VFs as they were"
# from: 2 VFs on igbvf (MTU 1500, trust off), PF down at MTU 1500; to: $CONF, every step
reset_pf() {
	echo 0 >"$SA/sriov_numvfs"
	ip link set "$AN" down
	ip link set "$AN" mtu 1500
	echo 2 >"$SA/sriov_numvfs"
	wait_for 10 test -n "$(vf_netdev 1)"
}
if [ ! -x "${DMF[0]}" ]; then
	fail "the fault-injection devmgr" "${DMF[0]} missing (tests/devmgr/apply-vm.sh builds it)"
	finish
fi
for p in apply.numvfs apply.linkup apply.driver apply.mtu apply.vfmtu apply.vfattr; do
	reset_pf
	before=$(state)
	UCNI_FAULT=$p dmf apply "$CONF"
	check_eq "$p: apply fails (exit 1)" 1 "$RC"
	check_match "$p: the PF as it was, says the message" "Input/output error; (every change of this run undone: the PF is as it was|nothing had changed on the PF)" "$ERR"
	check_eq "$p: the PF and its VFs as they were" "$before" "$(state)"
done
reset_pf
UCNI_FAULT=apply.undo dmf apply "$CONF"
check_eq "every undo failing: exit 1" 1 "$RC"
check_match "what stays is named" "undo failed: numVfs back to 2 \(Input/output error\), so that change stays$" "$ERR"
check_eq "... and is so: 4 VFs, PF MTU 9000" "4 9000" "$(cat "$SA/sriov_numvfs") $(cat "$SYSNET/mtu")"
finish
