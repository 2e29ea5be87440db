#!/bin/bash
# A VF on vfio-pci behind a real (emulated) IOMMU, INSIDE the test VM (tests/churn/vfio
# boots it with tests/vm/run --iommu --igb 1: q35 + intel-iommu, intel_iommu=on iommu=pt).
#
#   VM root namespace (the node; the plugin runs here)
#   eth0 (igb PF) ── VF 0 (igbvf netdev)
#                 └─ VF 1 → unbound from igbvf, bound to vfio-pci → /dev/vfio/<group>
#   pod namespace vfio: gets no netdev; the VF is configured through the PF only
#
# Binds VF 1 to vfio-pci (driver_override + drivers_probe) and shows that the sriov plugin
# configures it through the PF without moving it, CHECK agrees, DEL restores the PF's view
# and leaves it on vfio-pci with its /dev/vfio group; then gives it back to igbvf.
source "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "tests/churn/vfio-guest.sh runs inside the test VM (tests/churn/vfio)" >&2; exit 2; }
PLUGIN=$UCNI_BIN/sriov
STATE=$T_TMP/state
CNI_PATH_OVERRIDE=$UCNI_BIN:$REF_CNI
CNI_EXTRA_ENV=(UCNI_STATE_DIR="$STATE")

vfline() { ip link show "$1" | sed -n "s/^ *vf $2 //p"; } # vfline PF N
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)"; }
pod_links() { ip -n "$1" -o link | awk -F': ' '{print $2}' | xargs; }
held() { # held LOCKFILE… — those some process holds a flock on
	local f out=
	for f; do [ -e "$f" ] && ! flock -n -x "$f" true && out+=" ${f##*/}"; done
	echo "${out# }"
}
# bind DRIVER — bind $VF to DRIVER ("" = its default driver) the way an operator does
bind() {
	echo "$1" >"/sys/bus/pci/devices/$VF/driver_override"
	[ -e "/sys/bus/pci/devices/$VF/driver" ] && echo "$VF" >"/sys/bus/pci/devices/$VF/driver/unbind"
	echo "$VF" >/sys/bus/pci/drivers_probe
}

echo "# the IOMMU, as the kernel reports it"
dmesg | grep -E 'DMAR: IOMMU enabled|DMAR-IR: Enabled IRQ remapping|Default domain type' | sed 's/^/#   /'
check_match "the kernel runs with the Intel IOMMU (DMAR) enabled" 'DMAR: IOMMU enabled' "$(dmesg)"
check_match "IOMMU groups exist" '[0-9]' "$(ls /sys/kernel/iommu_groups)"
check_eq "vfio-pci is loaded" yes "$([ -d /sys/bus/pci/drivers/vfio-pci ] && echo yes)"

up=$("$UCNI_TOP/tests/vm/guest-sriov-up" 2 2>&1) || { fail "guest-sriov-up 2" "$up"; finish; }
ok "VFs up: $up"
read -r PF _ _ VFNETDEV <<<"$up"
VF=$(basename "$(readlink "/sys/class/net/$PF/device/virtfn1")")
GROUP=$(basename "$(readlink "/sys/bus/pci/devices/$VF/iommu_group")")
check_match "VF 1 ($VF, $VFNETDEV) has an IOMMU group of its own" "^$VF\$" "$(ls "/sys/kernel/iommu_groups/$GROUP/devices" 2>&1)"
check_eq "VF 1 starts on igbvf" igbvf "$(driver_of "$VF")"

bind vfio-pci
check_eq "VF 1 bound to vfio-pci (driver_override + drivers_probe)" vfio-pci "$(driver_of "$VF")"
check_eq "/dev/vfio/$GROUP is the VF's group device" "char" "$([ -c "/dev/vfio/$GROUP" ] && echo char)"
check_eq "the VF netdev $VFNETDEV is gone" absent "$(ip link show "$VFNETDEV" >/dev/null 2>&1 && echo present || echo absent)"
dm=$("$UCNI_BIN/devmgr" show "$VF" --json 2>&1)
check_match "devmgr: userspace driver with its vfio path" \
	"\"driver\":[[:space:]]*\"vfio-pci\".*\"userspaceDriver\":[[:space:]]*true.*\"vfioPath\":[[:space:]]*\"/dev/vfio/$GROUP\"" "$(tr -d '\n' <<<"$dm")"

before=$(vfline "$PF" 1)
ns=$(mkns vfio)
conf="{\"cniVersion\":\"1.1.0\",\"name\":\"vfio\",\"type\":\"sriov\",\"deviceID\":\"$VF\",\"vlan\":300,\"vlanQoS\":2,\"mac\":\"02:00:00:00:30:03\",\"spoofchk\":\"off\",\"trust\":\"on\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.40.0.1/24\"}]}}"
cni ADD "$PLUGIN" "$ns" net1 ctr-vfio <<<"$conf"
expect_ok "ADD of the vfio-pci VF"
res=$CNI_OUT
flat=$(tr -d ' \n' <<<"$res")
echo "# result: $flat"
check_match "result: net1 with the VF's pciID and the admin MAC" "\"name\":\"net1\",\"mac\":\"02:00:00:00:30:03\".*\"pciID\":\"$VF\"" "$flat"
check_match "result: the address for the application to configure" '"address":"10.40.0.1/24"' "$flat"
check_eq "result: no MTU (no netdev in the sandbox)" "" "$(grep -o '"mtu":[0-9]*' <<<"$flat")"
check_match "the PF shows VF 1's MAC, vlan 300 qos 2, spoofchk off, trust on" \
	'link/ether 02:00:00:00:30:03.*vlan 300, qos 2.*spoof checking off.*trust on' "$(vfline "$PF" 1)"
check_eq "nothing moved into the pod" lo "$(pod_links "$ns")"
check_eq "the VF stays on vfio-pci" vfio-pci "$(driver_of "$VF")"
check_eq "/dev/vfio/$GROUP still there" char "$([ -c "/dev/vfio/$GROUP" ] && echo char)"
check_match "an allocation record for the VF" "\"$VF\"|ctr-vfio" "$(cat "$STATE/vfs/$VF.json" 2>/dev/null)"
cni CHECK "$PLUGIN" "$ns" net1 ctr-vfio <<<"${conf%\}},\"prevResult\":$res}"
expect_ok "CHECK (the VF settings on the PF)"
ip link set "$PF" vf 1 vlan 301
cni CHECK "$PLUGIN" "$ns" net1 ctr-vfio <<<"${conf%\}},\"prevResult\":$res}"
check_match "CHECK notices vlan changed on the PF" '^1 .*vlan 301' "$CNI_RC $CNI_OUT"
ip link set "$PF" vf 1 vlan 300 qos 2
cni DEL "$PLUGIN" "$ns" net1 ctr-vfio <<<"$conf"
expect_ok "DEL"
# the MAC the PF reported before was igbvf's (no netdev owns it on vfio-pci): ADD hands the VF
# out at the baseline, administrative MAC cleared, and DEL restores that
check_eq "DEL: the PF shows VF 1 as before the ADD (MAC cleared)" \
	"$(sed -E 's/link\/ether [0-9a-f:]+/link\/ether 00:00:00:00:00:00/' <<<"$before")" "$(vfline "$PF" 1)"
check_eq "DEL: the VF stays on vfio-pci" vfio-pci "$(driver_of "$VF")"
check_eq "DEL: /dev/vfio/$GROUP still there" char "$([ -c "/dev/vfio/$GROUP" ] && echo char)"
check_eq "DEL: allocation record gone" "" "$(ls -A "$STATE/vfs" 2>/dev/null | xargs)"
check_eq "DEL: no lock held" "" "$(held "$STATE/store.lock" "$STATE"/locks/*)"
cni DEL "$PLUGIN" "$ns" net1 ctr-vfio <<<"$conf"
expect_ok "DEL again"

bind ""
for ((i = 0; i < 50; i++)); do [ -d "/sys/bus/pci/devices/$VF/net" ] && break; sleep 0.1; done
check_eq "given back to igbvf: a netdev again" "igbvf yes" "$(driver_of "$VF") $([ -d "/sys/bus/pci/devices/$VF/net" ] && echo yes)"
check_eq "no /dev/vfio/$GROUP once unbound" absent "$([ -e "/dev/vfio/$GROUP" ] && echo present || echo absent)"
finish
