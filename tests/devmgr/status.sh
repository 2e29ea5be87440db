#!/bin/bash
# devmgr status on generated fake sysfs trees: the JSON's keys and types (the SR-IOV
# operator's SriovNetworkNodeState names, schemaVersion 1), the values sysfs gives, the
# kernel's facts null on a tree that is not /sys, a netdevsim device, one PF by name,
# address or devlink handle, refusals with their exit codes, the table in 100 columns.
#
#   fake sysfs (tests/fixtures/mkfakesysfs) ──> devmgr --sysfs-root R status
#   R: eno1 (no SR-IOV); ens1f0 8 VFs (6 iavf, 2 vfio-pci); ens1f1 4 VFs, link down;
#      ens2f0 8 mlx5 VFs (VF 7 unbound); ens2f1 0 VFs; + bus/netdevsim/devices/netdevsim7
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

GEN=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
SYS=$T_TMP/sys
ST=$T_TMP/state
"$GEN" "$SYS" || { fail "generate the fake sysfs"; finish; }

# a netdevsim device as the kernel shows it: no PCI function, VFs without netdevs
nsd=$SYS/devices/netdevsim7
mkdir -p "$nsd/net/eni7np1" "$SYS/bus/netdevsim/devices" "$SYS/bus/netdevsim/drivers/netdevsim"
echo 2 >"$nsd/sriov_numvfs"
echo 02:00:00:00:07:01 >"$nsd/net/eni7np1/address"
echo 1500 >"$nsd/net/eni7np1/mtu"
echo 0x1003 >"$nsd/net/eni7np1/flags"
echo 1 >"$nsd/net/eni7np1/type"
ln -s ../../../bus/netdevsim/drivers/netdevsim "$nsd/driver"
ln -s ../../../devices/netdevsim7 "$SYS/bus/netdevsim/devices/netdevsim7"

dm() {
	OUT=$("$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" "$@" 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
}
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1 (exit $2)"; else fail "$1" "exit $RC, wanted $2: $ERR"; fi
}
q() { jq -c -r "$1" <<<"$J"; }

section "status --json: schema"
dm status --json
expect_rc "status --json" 0
J=$OUT
check_eq "schemaVersion 1, interfaces only" '["interfaces","schemaVersion"]' "$(q 'keys')"
check_eq "the SR-IOV PFs in address order, then netdevsim (no plain NIC)" \
	'["0000:3b:00.0","0000:3b:00.1","0000:af:00.0","0000:af:00.1",null]' "$(q '[.interfaces[].pciAddress]')"
pf_keys='["Vfs","deviceID","devlinkHandle","driver","eSwitchMode","linkAdminState","linkSpeed","linkType","mac","mtu","name","numVfs","pciAddress","totalvfs","vendor"]'
vf_keys='["Vlan","deviceID","driver","mac","mtu","name","pciAddress","representorName","vendor","vfID"]'
check_eq "every PF has exactly the documented keys" "$pf_keys" "$(q '[.interfaces[] | keys] | unique | .[]')"
check_eq "every VF has exactly the documented keys" "$vf_keys" "$(q '[.interfaces[].Vfs[] | keys] | unique | .[]')"
# the type of each key over all PFs (and VFs): one JSON type, or that type or null
check_eq "PF key types" \
	'{"Vfs":["array"],"deviceID":["null","string"],"devlinkHandle":["string"],"driver":["string"],"eSwitchMode":["null"],"linkAdminState":["string"],"linkSpeed":["null","string"],"linkType":["string"],"mac":["string"],"mtu":["number"],"name":["string"],"numVfs":["number"],"pciAddress":["null","string"],"totalvfs":["null","number"],"vendor":["null","string"]}' \
	"$(q '[.interfaces[] | to_entries[]] | group_by(.key) | map({(.[0].key): (map(.value | type) | unique)}) | add')"
check_eq "VF key types" \
	'{"Vlan":["null"],"deviceID":["null","string"],"driver":["null","string"],"mac":["null","string"],"mtu":["null","number"],"name":["null","string"],"pciAddress":["null","string"],"representorName":["null"],"vendor":["null","string"],"vfID":["number"]}' \
	"$(q '[.interfaces[].Vfs[] | to_entries[]] | group_by(.key) | map({(.[0].key): (map(.value | type) | unique)}) | add')"
check "Debian's python reads it as JSON" /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["schemaVersion"] == 1' <<<"$J"

section "status --json: values"
check_eq "ens1f0: ice 8086:1593, MTU 1500, 8/64 VFs, 25000 Mb/s, ETH, up" \
	'["ens1f0","3c:fd:fe:00:3b:00","ice","8086","1593",1500,8,64,"25000 Mb/s","ETH","up","pci/0000:3b:00.0"]' \
	"$(q '.interfaces[0] | [.name,.mac,.driver,.vendor,.deviceID,.mtu,.numVfs,.totalvfs,.linkSpeed,.linkType,.linkAdminState,.devlinkHandle]')"
check_eq "ens1f1 is down: no speed, admin state down" '[null,"down"]' \
	"$(q '.interfaces[1] | [.linkSpeed,.linkAdminState]')"
check_eq "VFs in index order under their PF" '[0,1,2,3,4,5,6,7]' "$(q '[.interfaces[0].Vfs[].vfID]')"
check_eq "an iavf VF: netdev, MAC, driver, ids, MTU" '["ens1f0v0","02:00:3b:00:00:00","iavf","0000:3b:01.0","8086","1889",1500]' \
	"$(q '.interfaces[0].Vfs[0] | [.name,.mac,.driver,.pciAddress,.vendor,.deviceID,.mtu]')"
check_eq "a vfio-pci VF: no netdev, no MAC, no MTU" '[null,null,"vfio-pci",null]' \
	"$(q '.interfaces[0].Vfs[6] | [.name,.mac,.driver,.mtu]')"
check_eq "an unbound VF: driver null" 'null' "$(q '.interfaces[2].Vfs[7].driver')"
check_eq "a PF with 0 VFs: Vfs empty" '[0,[]]' "$(q '.interfaces[3] | [.numVfs,.Vfs]')"
check_eq "not the running kernel's tree: no eswitch mode, VLAN or representor" '[[null],[null],[null]]' \
	"$(q '[([.interfaces[].eSwitchMode] | unique), ([.interfaces[].Vfs[].Vlan] | unique), ([.interfaces[].Vfs[].representorName] | unique)]')"
check_eq "netdevsim: devlink handle, its port, no PCI address nor total, 2 VFs without netdevs" \
	'["netdevsim/netdevsim7","eni7np1","netdevsim",null,null,2,"ETH",[0,1],[null]]' \
	"$(q '.interfaces[4] | [.devlinkHandle,.name,.driver,.pciAddress,.totalvfs,.numVfs,.linkType,[.Vfs[].vfID],([.Vfs[].pciAddress] | unique)]')"
check "status reads only: no state directory" test ! -e "$ST"

section "status PF"
for pf in ens1f1 0000:3b:00.1 3b:00.1 pci/0000:3b:00.1 0000:3B:00.1; do
	dm status "$pf" --json
	check_eq "status $pf: that PF alone" '0 ["0000:3b:00.1"]' "$RC $(jq -c '[.interfaces[].pciAddress]' <<<"$OUT")"
done
dm status netdevsim/netdevsim7 --json
check_eq "status netdevsim/netdevsim7" '0 ["eni7np1"]' "$RC $(jq -c '[.interfaces[].name]' <<<"$OUT")"

section "refusals"
dm status ens9
expect_rc "an unknown PF" 4
check_match "... named in the message" 'ens9: no SR-IOV PF' "$ERR"
dm status eno1
expect_rc "a NIC without SR-IOV is no PF" 4
dm status 0000:3b:01.0
expect_rc "a VF is no PF" 4
dm status netdevsim/netdevsim8
expect_rc "an absent netdevsim device" 4
dm status 'netdevsim/../x'
expect_rc "a malformed handle" 4
dm status ens1f0 ens1f1
expect_rc "two operands" 2
dm status --force
expect_rc "an option status does not take" 2
check_eq "refusals print nothing on stdout" "" "$OUT"

section "the table"
widest() { LC_ALL=C.UTF-8 wc -L; }
dm status
expect_rc "status (table)" 0
check_match "a PF row" 'ens1f0 +0000:3b:00.0 +ice +8086:1593 +1500 +8/64 +25000Mb/s +up +-' "$OUT"
check_match "a VF row beneath it" 'vf0 +0000:3b:01.0 +ens1f0v0 +iavf +02:00:3b:00:00:00 +- +1500 +-' "$OUT"
check_match "the netdevsim row" 'eni7np1 +netdevsim/netdevsim7 +netdevsim +- +1500 +2/-' "$OUT"
check "every row fits 100 columns" test "$(widest <<<"$OUT")" -le 100
# 5 PFs, 22 VFs, a VF header under each of the 4 PFs with VFs, a PF header atop and after each VF block
check_eq "one row per PF and VF, a header per block" 35 "$(grep -c . <<<"$OUT")"
dm status --no-headers
check_eq "--no-headers: only the PF and VF rows" "27 0" "$(grep -c . <<<"$OUT") $(grep -c 'DEVICE\|REPRESENTOR' <<<"$OUT")"
dm status -o wide
check_eq "-o wide: the same rows" "0 35" "$RC $(grep -c . <<<"$OUT")"
dm status --json -o wide
expect_rc "--json with -o wide" 2
mkdir -p "$T_TMP/empty"
OUT=$("$UCNI_BIN/devmgr" --sysfs-root "$T_TMP/empty" status)
check_eq "no SR-IOV PF: the header alone" "PF DEVICE DRIVER ID MTU VFS SPEED ADMIN ESWITCH" "$(xargs <<<"$OUT")"
OUT=$("$UCNI_BIN/devmgr" --sysfs-root "$T_TMP/empty" status --json)
check_eq "no SR-IOV PF: interfaces empty" '{"schemaVersion":1,"interfaces":[]}' "$(jq -c . <<<"$OUT")"

section "a big tree"
"$GEN" "$T_TMP/big" --pfs 8 --vfs 64 || fail "generate the big tree"
OUT=$("$UCNI_BIN/devmgr" --sysfs-root "$T_TMP/big" status --json)
check_eq "8 PFs of 64 VFs" '8 [64]' "$(jq -c '"\(.interfaces | length) \([.interfaces[].Vfs | length] | unique)"' -r <<<"$OUT")"
OUT=$("$UCNI_BIN/devmgr" --sysfs-root "$T_TMP/big" status)
check "its table fits 100 columns" test "$(widest <<<"$OUT")" -le 100
finish
