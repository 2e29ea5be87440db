#!/bin/bash
# The sriov plugin on real (emulated) SR-IOV hardware, INSIDE the test VM
# (tests/sriov/vm.sh boots it with two igb NICs and netdevsim).
#
#   VM root namespace (the node; the plugin runs here)
#   PF A (igb, 0000:01:00.0) ── VFs A0..A3 (igbvf netdevs) ─┐  qemu hub: the PFs and
#   PF B (igb, 0000:02:00.0) ── VFs B0..B3                  ─┘  all VFs share one switch
#   netdevsim port renamed ens1f0 = the PF of a fake sysfs tree whose VF netdevs are
#   veths: the VF settings igb refuses (link_state, min_tx_rate, 802.1ad) reach a driver.
#
# igb: every cniVersion × ADD/CHECK/DEL with VF settings; pods on two VFs ping, VLAN
# isolation; DEL after the netns is gone; four concurrent pool ADDs; a vfio-pci VF
# configured and not moved; bad input and driver refusals roll back completely. A VF is
# handed out at the baseline (VLAN 0, spoofchk on, trust off, admin MAC cleared …) plus the
# config's keys, and DEL restores what ADD saved.
# Process starts are slow under TCG (jq ≈0.35 s): output is parsed in bash.
source "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "tests/sriov/vm-suite.sh runs inside the test VM (tests/sriov/vm.sh)" >&2; exit 2; }
PLUGIN=$UCNI_BIN/sriov
VERSIONS=(0.3.0 0.3.1 0.4.0 1.0.0 1.1.0)
STATE=$T_TMP/state
NET=sriov-vm
CNI_PATH_OVERRIDE=$UCNI_BIN:$REF_CNI
# a poolConfig lies in a config directory the node settings allow
mkdir -p "$T_TMP/etc" && echo "{\"configDirs\": [\"$T_TMP/etc\"], \"dataDirs\": [\"$T_TMP\"]}" >"$T_TMP/node.json"
CNI_EXTRA_ENV=(UCNI_STATE_DIR="$STATE" UCNI_NODE_CONFIG="$T_TMP/node.json")

source "$(dirname "$0")/vm-lib.sh"

section "igb: 2 PFs × 4 VFs"
up=$("$UCNI_TOP/tests/vm/guest-sriov-up" 4 2>&1) || { fail "guest-sriov-up 4" "$up"; finish; }
ok "VFs up: $(echo $up)"
read -r PFA _ <<<"$(sed -n 1p <<<"$up")"
read -r PFB _ <<<"$(sed -n 2p <<<"$up")"
PFA_PCI=$(basename "$(readlink -f "/sys/class/net/$PFA/device")")
A=() B=()
for i in 0 1 2 3; do
	A[i]=$(basename "$(readlink "/sys/class/net/$PFA/device/virtfn$i")")
	B[i]=$(basename "$(readlink "/sys/class/net/$PFB/device/virtfn$i")")
done
# What a VF looks like before any ADD: its PF line and its netdev.
declare -A VFL ND
snapshot() { # snapshot PF N PCI
	VFL[$3]=$(vfline "$1" "$2")
	ND[$3]=$(netdev "$(vf_netdev "$3")")
}
for i in 0 1 2 3; do snapshot "$PFA" $i "${A[i]}"; snapshot "$PFB" $i "${B[i]}"; done
# restored WHAT PF N PCI — VF back as in the snapshot and unallocated
restored() {
	check_eq "$1: VF $4 settings on $2 restored" "${VFL[$4]}" "$(vfline "$2" "$3")"
	check_eq "$1: VF $4 netdev back (name mac mtu state)" "${ND[$4]}" "$(netdev "$(vf_netdev "$4")")"
	check_eq "$1: allocation of $4 released" "" "$(record "$4")"
}

section "every cniVersion × ADD/CHECK/DEL with VF settings"
for v in "${VERSIONS[@]}"; do
	ns=$(mkns "v${v//./}")
	c=$(cf "$v" "\"deviceID\":\"${A[0]}\",\"vlan\":100,\"vlanQoS\":3,\"spoofchk\":\"off\",\"trust\":\"on\",\"mac\":\"02:00:00:00:10:01\",\"max_tx_rate\":100,\"mtu\":1400,$(static_ipam 10.10.0.1/24)")
	add "$ns" "ctr-$v" net1 "$c"
	expect_ok "$v ADD"
	res=$CNI_OUT
	check_eq "$v ADD: result interface, MAC, sandbox" "net1 02:00:00:00:10:01 /var/run/netns/$ns" \
		"$(jf name) $(jf mac) $(jf sandbox)"
	if [ "$v" = 1.1.0 ]; then
		check_eq "$v ADD: 1.1.0 pciID and mtu" "${A[0]} 1400" "$(jf pciID) $(jf mtu)"
	fi
	l=$(vfline "$PFA" 0)
	for want in 'link/ether 02:00:00:00:10:01' 'vlan 100, qos 3' 'rate 100' 'spoof checking off' 'trust on'; do
		check_match "$v: the PF shows $want" "$want" "$l"
	done
	l=$(ip -n "$ns" -o addr show net1 2>&1)
	check_match "$v: net1 in the pod with its address" 'net1 +inet 10\.10\.0\.1/24' "$l"
	check_match "$v: net1 MAC and MTU" 'mtu 1400 .*link/ether 02:00:00:00:10:01' "$(pod_has "$ns" net1)"
	check_eq "$v: the VF netdev left the node" "" "$(vf_netdev "${A[0]}")"
	if [ "$v" != 0.3.0 ] && [ "$v" != 0.3.1 ]; then
		chk "$ns" "ctr-$v" net1 "$(with_prev "$c" "$res")"
		expect_ok "$v CHECK"
	fi
	del "$ns" "ctr-$v" net1 "$c"
	expect_ok "$v DEL"
	restored "$v DEL" "$PFA" 0 "${A[0]}"
	del "$ns" "ctr-$v" net1 "$c"
	expect_ok "$v DEL again"
	ip netns del "$ns"
done

section "CHECK sees VF settings changed behind the plugin's back"
ns=$(mkns chk)
c=$(cf 1.0.0 "\"deviceID\":\"${A[1]}\",\"vlan\":10,\"spoofchk\":\"on\"")
add "$ns" ctr-chk net1 "$c"
expect_ok "ADD vlan 10"
res=$CNI_OUT
ip link set "$PFA" vf 1 vlan 11
chk "$ns" ctr-chk net1 "$(with_prev "$c" "$res")"
expect_err "CHECK: vlan changed on the PF" 102 "has vlan 11" "says vlan 10"
ip link set "$PFA" vf 1 vlan 10
chk "$ns" ctr-chk net1 "$(with_prev "$c" "$res")"
expect_ok "CHECK after putting it back"
del "$ns" ctr-chk net1 "$c"
restored "DEL" "$PFA" 1 "${A[1]}"

section "MAC precedence (runtimeConfig > CNI_ARGS MAC > mac) and timing"
ns=$(mkns macp)
c=$(cf 1.1.0 "\"deviceID\":\"${A[1]}\",\"mac\":\"02:00:00:00:0c:0c\",\"runtimeConfig\":{\"mac\":\"02:00:00:00:0a:0a\"}")
CNI_EXTRA_ENV+=("CNI_ARGS=IgnoreUnknown=1;MAC=02:00:00:00:0b:0b")
t0=$(date +%s%N)
add "$ns" ctr-macp net1 "$c"
t1=$(date +%s%N)
expect_ok "ADD with all three MACs"
check_eq "runtimeConfig.mac wins" "02:00:00:00:0a:0a" "$(jf mac)"
check_match "  ... on the PF and on net1" 'link/ether 02:00:00:00:0a:0a' "$(vfline "$PFA" 1) $(pod_has "$ns" net1)"
t2=$(date +%s%N)
del "$ns" ctr-macp net1 "$c"
t3=$(date +%s%N)
expect_ok "DEL"
echo "# igb VF with a MAC, in the VM (TCG): ADD $(((t1 - t0) / 1000000)) ms, DEL $(((t3 - t2) / 1000000)) ms"
c=$(cf 1.1.0 "\"deviceID\":\"${A[1]}\",\"mac\":\"02:00:00:00:0c:0c\"")
add "$ns" ctr-macp net1 "$c"
check_eq "CNI_ARGS MAC wins over mac" "02:00:00:00:0b:0b" "$(jf mac)"
del "$ns" ctr-macp net1 "$c"
unset 'CNI_EXTRA_ENV[${#CNI_EXTRA_ENV[@]}-1]'
add "$ns" ctr-macp net1 "$c"
check_eq "mac alone" "02:00:00:00:0c:0c" "$(jf mac)"
del "$ns" ctr-macp net1 "$c"
restored "MAC precedence" "$PFA" 1 "${A[1]}"

section "two pods on two VFs: traffic and VLAN isolation"
p1=$(mkns p1) p2=$(mkns p2) p3=$(mkns p3)
c1=$(cf 1.0.0 "\"deviceID\":\"${A[0]}\",\"vlan\":100,$(static_ipam 10.20.0.1/24)")
c2=$(cf 1.0.0 "\"deviceID\":\"${B[0]}\",\"vlan\":100,$(static_ipam 10.20.0.2/24)")
c3=$(cf 1.0.0 "\"deviceID\":\"${A[1]}\",\"vlan\":200,$(static_ipam 10.20.0.3/24)")
add "$p1" ctr-p1 net1 "$c1"; expect_ok "ADD pod 1 (PF A, vlan 100)"
add "$p2" ctr-p2 net1 "$c2"; expect_ok "ADD pod 2 (PF B, vlan 100)"
add "$p3" ctr-p3 net1 "$c3"; expect_ok "ADD pod 3 (PF A, vlan 200)"
check "pod 1 pings pod 2 (same VLAN, VFs of two PFs)" ip netns exec "$p1" ping -c1 -W3 10.20.0.2
if ip netns exec "$p1" ping -c1 -W2 10.20.0.3 >/dev/null 2>&1; then
	fail "VLAN isolation: pod 1 (vlan 100) must not reach pod 3 (vlan 200)"
else
	ok "VLAN isolation: pod 1 (vlan 100) does not reach pod 3 (vlan 200)"
fi
del "$p3" ctr-p3 net1 "$c3"
c3=$(cf 1.0.0 "\"deviceID\":\"${A[1]}\",\"vlan\":100,$(static_ipam 10.20.0.3/24)")
add "$p3" ctr-p3 net1 "$c3"; expect_ok "ADD pod 3 again on vlan 100"
check "pod 3 (now vlan 100) reaches pod 1" ip netns exec "$p3" ping -c1 -W3 10.20.0.1
for i in 1 2 3; do eval "del \"\$p$i\" ctr-p$i net1 \"\$c$i\""; expect_ok "DEL pod $i"; done
restored "traffic pods" "$PFA" 0 "${A[0]}"
restored "traffic pods" "$PFB" 0 "${B[0]}"
restored "traffic pods" "$PFA" 1 "${A[1]}"

section "DEL after the netns was deleted"
ns=$(mkns gone)
c=$(cf 1.1.0 "\"deviceID\":\"${A[2]}\",\"vlan\":42,\"mac\":\"02:00:00:00:42:42\",\"mtu\":1300,$(static_ipam 10.30.0.1/24)")
add "$ns" ctr-gone net1 "$c"
expect_ok "ADD"
ip netns del "$ns"
# The kernel returns the netdev from a work queue, a moment after the netns is gone.
for ((i = 0; i < 100; i++)); do back=$(vf_netdev "${A[2]}"); [ -n "$back" ] && break; sleep 0.1; done
check_match "netns deleted: the kernel returned the VF netdev to the node" '.+' "$back"
check_match "  ... misconfigured as the pod left it" "02:00:00:00:42:42 1300" "$(netdev "$back")"
del "$ns" ctr-gone net1 "$c"
expect_ok "DEL with the netns gone"
restored "DEL after netns deletion" "$PFA" 2 "${A[2]}"
# The same with an empty CNI_NETNS (the runtime lost it too): found through the record.
ns=$(mkns gone2)
add "$ns" ctr-gone2 net1 "$c"
expect_ok "ADD"
ip netns del "$ns"
del "" ctr-gone2 net1 "$c" # right away: the plugin waits for the netdev to come back
expect_ok "DEL without CNI_NETNS after the netns is gone"
restored "DEL without CNI_NETNS" "$PFA" 2 "${A[2]}"

section "pool: four concurrent ADDs, no deviceID"
cat >"$T_TMP/etc/pools.json" <<EOF
{"resourceList": [{"resourceName": "igb_vfs", "selectors": [{"vendors": ["8086"], "devices": ["10ca"], "drivers": ["igbvf"]}]}]}
EOF
pool=$(sed -e "s|/etc/ucni/devmgr.json|$T_TMP/etc/pools.json|" -e 's|"numaNode": 0|"numaNode": -1|' \
	-e "s|\"type\": \"host-local\"|\"type\": \"host-local\", \"dataDir\": \"$T_TMP/hl\"|" "$UCNI_TOP/conf/sriov-pool.conflist")
pc=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' <<<"$pool")
pids=()
for i in 0 1 2 3; do
	p=$(mkns "pool$i")
	(add "$p" "ctr-pool$i" net1 "$pc"; echo "$CNI_RC $(jf pciID) $(jf address)" >"$T_TMP/pool$i") &
	pids+=($!)
done
wait "${pids[@]}"
got=$(cat "$T_TMP"/pool?)
echo "$got" | sed 's/^/# /'
check_eq "four ADDs succeeded" "0 0 0 0" "$(cut -d' ' -f1 <<<"$got" | xargs)"
check_eq "four different VFs" 4 "$(cut -d' ' -f2 <<<"$got" | sort -u | grep -c :)"
check_eq "four different addresses (conf/sriov-pool.conflist's host-local)" 4 "$(cut -d' ' -f3 <<<"$got" | sort -u | grep -c 203.0.113)"
check "pool pod 0 pings pool pod 3" ip netns exec "${T_ID}-pool0" ping -c1 -W3 "$(cut -d' ' -f3 "$T_TMP/pool3" | cut -d/ -f1)"
for i in 0 1 2 3; do
	del "${T_ID}-pool$i" "ctr-pool$i" net1 "$pc"
	expect_ok "DEL pool pod $i"
done
for i in 0 1 2 3; do
	check_eq "after pool DELs: VF ${A[i]} unallocated and home" "${ND[${A[i]}]}" "$(netdev "$(vf_netdev "${A[i]}")")$(record "${A[i]}")"
	check_eq "after pool DELs: VF ${B[i]} unallocated and home" "${ND[${B[i]}]}" "$(netdev "$(vf_netdev "${B[i]}")")$(record "${B[i]}")"
done

section "conf/sriov.conflist (deviceID, vlan/qos/spoofchk/trust/mtu, host-local)"
ns=$(mkns conf)
sc=$(jq -c --arg d "${A[3]}" --arg hl "$T_TMP/hl" '.plugins[0] + {cniVersion: .cniVersion, name: .name} | .deviceID = $d | .ipam.dataDir = $hl' "$UCNI_TOP/conf/sriov.conflist")
add "$ns" ctr-conf net1 "$sc"
expect_ok "ADD with conf/sriov.conflist"
check_match "  ... VF configured as the conflist says" 'vlan 100, qos 3.*spoof checking on.*trust off' "$(vfline "$PFA" 3)"
check_match "  ... mtu 1400 and a 198.51.100.x address" 'mtu 1400' "$(pod_has "$ns" net1)"
check_match "  ... address" '198\.51\.100\.' "$(ip -n "$ns" -o addr show net1)"
del "$ns" ctr-conf net1 "$sc"
restored "conf/sriov.conflist DEL" "$PFA" 3 "${A[3]}"

section "conf/sriov-NetworkAttachmentDefinition.yaml (as Multus runs it: runtimeConfig.deviceID)"
ns=$(mkns nad)
nad=$(sed -n '/^  config: |/,$p' "$UCNI_TOP/conf/sriov-NetworkAttachmentDefinition.yaml" | tail -n +2 | sed 's/^    //')
nc=$(jq -c --arg d "${B[2]}" --arg hl "$T_TMP/hl" '. + {runtimeConfig: {deviceID: $d}} | .ipam.dataDir = $hl' <<<"$nad")
check_match "the NAD names its device plugin resource" 'k8s.v1.cni.cncf.io/resourceName: ucni.io/' \
	"$(cat "$UCNI_TOP/conf/sriov-NetworkAttachmentDefinition.yaml")"
CNI_EXTRA_ENV+=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nad-pod")
add "$ns" ctr-nad net1 "$nc"
expect_ok "ADD with the NAD's config"
check_match "  ... vlan 100 and max_tx_rate 1000 on the PF" 'vlan 100.*rate 1000' "$(vfline "$PFB" 2)"
check_match "  ... net1 with a 198.51.100.x address" 'net1 +inet 198\.51\.100\.' "$(ip -n "$ns" -o addr show net1)"
del "$ns" ctr-nad net1 "$nc"
expect_ok "DEL with the NAD's config"
unset 'CNI_EXTRA_ENV[${#CNI_EXTRA_ENV[@]}-1]'
restored "NAD DEL" "$PFB" 2 "${B[2]}"

section "a userspace-driver VF (vfio-pci, else uio_pci_generic): configured through the PF, not moved"
VFIO=${B[3]}
# vfio-pci needs an IOMMU, which the VM lacks (and Debian's kernel has no VFIO_NOIOMMU):
# then uio_pci_generic, the other userspace driver, takes the VF through the same path.
bind_user() { # bind_user DRIVER
	modprobe "$1" 2>/dev/null
	echo "$1" >"/sys/bus/pci/devices/$VFIO/driver_override"
	[ -e "/sys/bus/pci/devices/$VFIO/driver" ] && echo "$VFIO" >"/sys/bus/pci/devices/$VFIO/driver/unbind"
	echo "$VFIO" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$VFIO/driver")")" = "$1" ]
}
if bind_user vfio-pci; then
	UDRV=vfio-pci
elif bind_user uio_pci_generic; then
	UDRV=uio_pci_generic
	echo "# vfio-pci cannot bind without an IOMMU in this VM: using uio_pci_generic"
fi
check_match "VF $VFIO bound to a userspace driver" 'vfio-pci|uio_pci_generic' "${UDRV:-none}"
snapshot "$PFB" 3 "$VFIO"
# The MAC the PF reports is igbvf's from before the rebind; no netdev owns it now: the VF is
# handed out at the baseline (administrative MAC cleared), and that is what DEL restores.
VFL[$VFIO]=$(sed -E 's/link\/ether [0-9a-f:]+/link\/ether 00:00:00:00:00:00/' <<<"${VFL[$VFIO]}")
ns=$(mkns vfio)
c=$(cf 1.1.0 "\"deviceID\":\"$VFIO\",\"vlan\":300,\"mac\":\"02:00:00:00:30:03\",\"logLevel\":\"info\",$(static_ipam 10.40.0.1/24)")
add "$ns" ctr-vfio net1 "$c"
expect_ok "ADD of the $UDRV VF"
if [ -e "/sys/bus/pci/devices/$VFIO/reset" ]; then
	check_match "  ... a function-level reset before the VF is handed out" "VF $VFIO: function-level reset" \
		"$(cat "$T_TMP/stderr")"
else
	skip "function-level reset" "VF $VFIO has no reset method"
fi
check_eq "  ... result: net1, its pciID, the admin MAC, the address" "net1 $VFIO 02:00:00:00:30:03 10.40.0.1/24" \
	"$(jf name) $(jf pciID) $(jf mac) $(jf address)"
check_match "  ... the PF applied vlan and MAC" '02:00:00:00:30:03.*vlan 300' "$(vfline "$PFB" 3)"
check_eq "  ... nothing moved into the pod" "lo" "$(ip -n "$ns" -o link | awk -F': ' '{print $2}' | xargs)"
check_eq "  ... still on $UDRV" "$UDRV" "$(basename "$(readlink "/sys/bus/pci/devices/$VFIO/driver")")"
res=$CNI_OUT
chk "$ns" ctr-vfio net1 "$(with_prev "$c" "$res")"
expect_ok "  ... CHECK (VF settings on the PF)"
del "$ns" ctr-vfio net1 "$c"
expect_ok "  ... DEL"
[ -e "/sys/bus/pci/devices/$VFIO/reset" ] && check_match "  ... and one at DEL" "VF $VFIO: function-level reset" \
	"$(cat "$T_TMP/stderr")"
restored "$UDRV VF DEL" "$PFB" 3 "$VFIO"

section "bad input and driver refusals: clear error, VF untouched, allocation released"
ns=$(mkns bad)
bad() { # bad "what" CODE 'members' message-parts…
	local what=$1 code=$2 m=$3
	shift 3
	add "$ns" ctr-bad net1 "$(cf 1.0.0 "$m")"
	expect_err "$what" "$code" "$@"
}
bad "malformed deviceID" 7 '"deviceID":"01:10.0.1"' '"deviceID" value "01:10.0.1" is not a PCI address'
bad "nonexistent deviceID" 102 '"deviceID":"0000:05:10.0"' 'PCI device 0000:05:10.0 does not exist'
bad "a PF instead of a VF" 7 "\"deviceID\":\"$PFA_PCI\"" "is a PF, not an SR-IOV VF"
bad "vlan out of range" 7 "\"deviceID\":\"${A[0]}\",\"vlan\":5000" '"vlan" value 5000 is out of range'
bad "vlanQoS without vlan" 7 "\"deviceID\":\"${A[0]}\",\"vlanQoS\":2" '"vlanQoS" value 2 needs a non-zero "vlan"'
bad "bad vlanProto" 7 "\"deviceID\":\"${A[0]}\",\"vlan\":5,\"vlanProto\":\"qinq\"" '"vlanProto" has unknown value "qinq"'
# igb refuses these; earlier settings of the same ADD (MAC, spoofchk, trust) must be undone.
pre="\"deviceID\":\"${A[0]}\",\"mac\":\"02:00:00:00:66:66\",\"spoofchk\":\"off\",\"trust\":\"on\",\"mtu\":1280,$(static_ipam 10.50.0.1/24)"
bad "igb refuses vlanProto 802.1ad" 100 "$pre,\"vlan\":7,\"vlanProto\":\"802.1ad\"" "refused vlan 7 vlanQoS 0 vlanProto 802.1ad" "Protocol not supported"
restored "after 802.1ad refusal" "$PFA" 0 "${A[0]}"
bad "igb refuses link_state" 100 "$pre,\"link_state\":\"enable\"" "refused link_state enable" "not supported"
restored "after link_state refusal" "$PFA" 0 "${A[0]}"
bad "igb refuses min_tx_rate" 100 "$pre,\"min_tx_rate\":10,\"max_tx_rate\":100" "refused min_tx_rate 10 max_tx_rate 100" "Invalid argument"
restored "after min_tx_rate refusal" "$PFA" 0 "${A[0]}"
# The move, rename, MTU and up are one request: the kernel moves the netdev, then refuses
# an MTU above the VF's maximum (igbvf: 9216); the netdev must come back from the pod.
pre9="\"deviceID\":\"${A[0]}\",\"mac\":\"02:00:00:00:66:66\",\"spoofchk\":\"off\",\"trust\":\"on\",\"vlan\":9"
bad "an MTU above the VF's maximum (after the move)" 100 "$pre9,\"mtu\":9500" "moving" "with mtu 9500 failed"
restored "after the refused MTU" "$PFA" 0 "${A[0]}"
check_eq "  ... nothing left in the pod" "lo" "$(ip -n "$ns" -o link | awk -F': ' '{print $2}' | xargs)"
# CNI_IFNAME taken in the pod: code 4, the VF untouched.
ip -n "$ns" link add net1 type veth peer name net1-peer
bad "CNI_IFNAME already in the pod" 4 "$pre9" 'CNI_IFNAME "net1" already exists in the container'
restored "CNI_IFNAME taken" "$PFA" 0 "${A[0]}"
ip -n "$ns" link del net1
# An IPAM failure comes after the move, rename, MTU and up: all of that is undone too.
add "$ns" ctr-bad net1 "$(cf 1.0.0 "\"deviceID\":\"${A[0]}\",\"mac\":\"02:00:00:00:66:66\",\"vlan\":9,\"mtu\":1280,\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"not-an-address\"}]}")"
check_eq "IPAM fails after the VF moved: ADD fails" 1 "$CNI_RC"
restored "after the IPAM failure (VF was in the pod)" "$PFA" 0 "${A[0]}"
check_eq "no pod interface left behind" "lo" "$(ip -n "$ns" -o link | awk -F': ' '{print $2}' | xargs)"
b1=$(mkns busy)
add "$b1" ctr-busy net1 "$(cf 1.0.0 "\"deviceID\":\"${A[0]}\"")"
expect_ok "ADD ctr-busy"
add "$ns" ctr-bad net1 "$(cf 1.0.0 "\"deviceID\":\"${A[0]}\"")"
expect_err "a VF held by a live container" 102 "in use by container ctr-busy"
del "$b1" ctr-busy net1 "$(cf 1.0.0 "\"deviceID\":\"${A[0]}\"")"
restored "busy VF DEL" "$PFA" 0 "${A[0]}"

section "the sriov benchmark in miniature (make bench-vm runs it in full)"
source "$(dirname "$0")/bench-smoke.sh" "${B[1]}"

section "STATUS"
cni STATUS "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 "\"deviceID\":\"${A[0]}\"")"
expect_ok "STATUS: VF and PF present"
cni STATUS "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 "\"deviceID\":\"0000:05:10.0\"")"
expect_err "STATUS: no such VF" 50

section "netdevsim: the VF settings igb refuses reach the kernel"
if [ ! -d /sys/bus/netdevsim ]; then
	skip "netdevsim" "not loaded (tests/vm/run --netdevsim)"
	finish
fi
id=$((RANDOM % 900 + 100))
echo "$id 1" >/sys/bus/netdevsim/new_device
on_exit "echo $id >/sys/bus/netdevsim/del_device"
nsd=/sys/bus/netdevsim/devices/netdevsim$id
for ((i = 0; i < 30; i++)); do compgen -G "$nsd/net/*" >/dev/null && break; sleep 0.1; done
port=$(ls "$nsd/net" | head -n1)
echo 4 >"$nsd/sriov_numvfs"
# The fake tree's PF 0000:3b:00.0 is called ens1f0: the netdevsim port takes that name.
ip link set "$port" name ens1f0 && ip link set ens1f0 up
check_eq "netdevsim port is ens1f0 with 4 VFs" 4 "$(ip link show ens1f0 | grep -c '^ *vf ')"
SYS=$T_TMP/sys
"$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs" "$SYS" >/dev/null
for i in 1 2; do
	ip link add "ens1f0v$i" address "02:00:00:bb:00:0$i" type veth peer name "q$i"
done
FAKE=(UCNI_SYSFS_ROOT="$SYS")
CNI_EXTRA_ENV+=("${FAKE[@]}")
before1=$(vfline ens1f0 1) before2=$(vfline ens1f0 2)
nd1=$(netdev ens1f0v1)
ns=$(mkns nsim)
c=$(cf 1.1.0 '"deviceID":"0000:3b:01.1","vlan":100,"vlanQoS":2,"vlanProto":"802.1ad","link_state":"disable","min_tx_rate":10,"max_tx_rate":100,"spoofchk":"on","trust":"on","mac":"02:00:00:00:01:01"')
add "$ns" ctr-nsim net1 "$c"
expect_ok "ADD through the netdevsim PF"
l=$(vfline ens1f0 1)
check_match "vlan 100 qos 2 protocol 802.1ad reached the driver" 'vlan 100, qos 2, vlan protocol 802.1ad' "$l"
check_match "min_tx_rate 10, max_tx_rate 100 reached the driver" 'max_tx_rate 100Mbps, min_tx_rate 10Mbps' "$l"
check_match "link_state disable reached the driver" 'link-state disable' "$l"
check_match "mac, spoofchk, trust reached the driver" '02:00:00:00:01:01.*spoof checking on.*trust on' "$l"
res=$CNI_OUT
chk "$ns" ctr-nsim net1 "$(with_prev "$c" "$res")"
expect_ok "CHECK"
ip link set ens1f0 vf 1 state auto
chk "$ns" ctr-nsim net1 "$(with_prev "$c" "$res")"
expect_err "CHECK sees link_state changed" 102 "has link_state auto" "says link_state disable"
del "$ns" ctr-nsim net1 "$c"
expect_ok "DEL"
# netdevsim's VFs start with spoofchk off; ADD hands a VF out at the baseline (spoofchk on)
# and saves that, so DEL restores the baseline.
check_eq "DEL restored every VF setting on netdevsim (the baseline)" "${before1/spoof checking off/spoof checking on}" \
	"$(vfline ens1f0 1)"
check_eq "DEL restored the VF netdev" "$nd1" "$(netdev ens1f0v1)"
# A refusal in the middle (a MAC the driver rejects is impossible to configure; use an
# out-of-range rate) rolls back the settings applied before it.
c=$(cf 1.0.0 '"deviceID":"0000:3b:01.2","vlan":7,"vlanProto":"802.1ad","link_state":"enable","max_tx_rate":4294967295')
add "$ns" ctr-nsim2 net1 "$c"
if [ "$CNI_RC" = 0 ]; then
	# netdevsim took it all: then prove restore once more
	del "$ns" ctr-nsim2 net1 "$c"
	expect_ok "netdevsim accepts the extreme rate; DEL"
else
	expect_err "netdevsim refuses the rate" 100 "refused min_tx_rate"
fi
check_eq "VF 2 back as it was (the baseline)" "${before2/spoof checking off/spoof checking on}" "$(vfline ens1f0 2)"
finish
